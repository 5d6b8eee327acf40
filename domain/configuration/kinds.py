"""Imports every configuration entity module so that ``entity_class`` knows each kind."""

import domain.configuration.cad
import domain.configuration.codes
import domain.configuration.dial_numbers
import domain.configuration.entry_points
import domain.configuration.queues
import domain.configuration.responses
import domain.configuration.templates  # noqa: F401
from domain.configuration import agents, profiles, teams

__all__ = ["agents", "profiles", "teams"]
