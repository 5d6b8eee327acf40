"""Omnichannel contact sessions: several interactions of one contact, elevation (SPEC §11)."""
