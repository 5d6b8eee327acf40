"""Every configuration kind the API serves, in schema order."""

from api.graphql.configuration import cad, codes, responses, teams, templates
from api.graphql.configuration.agents import RESOURCE as AGENTS
from api.graphql.configuration.crud import Resource
from api.graphql.configuration.dial_numbers import RESOURCE as DIAL_NUMBERS
from api.graphql.configuration.entry_points import RESOURCE as ENTRY_POINTS
from api.graphql.configuration.profiles import RESOURCE as MULTIMEDIA_PROFILES
from api.graphql.configuration.queues import RESOURCE as QUEUES

RESOURCES: list[Resource] = [
    teams.RESOURCE,
    MULTIMEDIA_PROFILES,
    AGENTS,
    QUEUES,
    ENTRY_POINTS,
    DIAL_NUMBERS,
    codes.IDLE_CODES,
    codes.WRAP_UP_CODES,
    responses.RESOURCE,
    templates.RESOURCE,
    cad.RESOURCE,
]
