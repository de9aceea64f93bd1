"""What the replay checks: one mixin of `Replay` per aggregate or rule (docs/audit.md)."""
