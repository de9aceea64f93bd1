"""Adapters to the outside world: settings, stores, tokens, HTTP clients, the command line."""
