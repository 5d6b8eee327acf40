"""Imports every configuration entity module so that ``entity_class`` knows each kind."""

from domain.configuration import agents, profiles, teams

__all__ = ["agents", "profiles", "teams"]
