"""Locks shared by the processes of one store: the queue mutex, leadership, table creation."""
