"""The audit's outside: the read models compared (`checks/`), the log read by a child."""
