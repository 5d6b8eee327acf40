"""Imports every configuration entity module so that ``entity_class`` knows each kind."""

from domain.configuration import teams

__all__ = ["teams"]
