"""Configuration API (SPEC §1): one module per kind of entity, assembled by ``crud``."""
