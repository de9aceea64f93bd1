"""Logs: one line per record on stderr, as JSON objects or text for a terminal (LOG_FORMAT)."""
