"""Locks shared by the processes of one store: the queue mutex, leadership, table creation.

Why each exists: docs/architecture.md, docs/projections.md and docs/operations.md.
"""
