"""The audit's outside: how its report reads, and how read models are compared with the replay."""
