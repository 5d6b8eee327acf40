"""Tasks: one customer interaction on one channel (SPEC §4)."""
