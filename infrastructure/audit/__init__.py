"""The audit's outside: the read models compared (`checks/`), and how a full audit is made fast.

A child process reads the log ahead of the replay (`log_reader`), another reads the read models
(`snapshots`, `view_claims`), and either failing leaves its work to the audit's own process
(`parallel`). Rationale and figures: docs/audit.md.
"""
