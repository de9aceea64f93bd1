"""Benchmarks: each script prints its figures beside a ceiling measured in the same run."""
