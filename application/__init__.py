"""Atelier's use cases: the eventsourcing Application, its ports and its read models."""
