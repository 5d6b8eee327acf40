"""Callbacks (SPEC §9, seed 002): courtesy, web, scheduled and personal callbacks."""
