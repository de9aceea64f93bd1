"""Prometheus metrics (prometheus-client): counters and histograms the server processes write,
gauges read when scraped; summed over every `atelier serve` worker (docs/operations.md)."""
