"""The read side: projections of the application's event log into SQL views.

Each projection follows the log with its own tracking position, stored in the same database as
the events and changed in the same transaction as its view rows, so every event is applied
exactly once, in order, across crashes, restarts and concurrent runners. See docs/projections.md.
"""
