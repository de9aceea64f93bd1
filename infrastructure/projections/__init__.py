"""The read side: followers of the application's event log, SQL views and tracked effects."""
