"""The audit's outside: the read models compared (`checks/`), and the children that make a full
audit fast (`parallel`); docs/audit.md."""
