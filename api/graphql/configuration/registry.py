"""Every configuration kind the API serves, in schema order."""

from api.graphql.configuration import teams
from api.graphql.configuration.crud import Resource

RESOURCES: list[Resource] = [
    teams.RESOURCE,
]
