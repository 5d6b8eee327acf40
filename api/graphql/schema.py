"""Assembles the schema from its areas, with the limits and masking of DESIGN "Identity and security"."""

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types

from api.graphql.agent_events import AgentEventsSubscription
from api.graphql.configuration.crud import mutation_fields, query_fields
from api.graphql.configuration.registry import RESOURCES
from api.graphql.errors import ERROR_TYPES
from api.graphql.organization import OrganizationMutation, OrganizationQuery
from api.graphql.permissions import AccessDenied
from api.settings import Settings
from domain.errors import DomainError


def _type_from_fields(name: str, fields: dict[str, Any]) -> type:
    return strawberry.type(type(name, (), dict(fields)))


def _configuration_query() -> type:
    fields: dict[str, Any] = {}
    for resource in RESOURCES:
        fields.update(query_fields(resource))
    return _type_from_fields("ConfigurationQuery", fields)


def _configuration_mutation() -> type:
    fields: dict[str, Any] = {}
    for resource in RESOURCES:
        fields.update(mutation_fields(resource))
    return _type_from_fields("ConfigurationMutation", fields)


def _should_mask(error: GraphQLError) -> bool:
    """Show expected failures (access, validation of arguments, GraphQL's own), hide the rest."""
    original = error.original_error
    if original is None:
        return False  # parse/validation errors from graphql-core itself
    return not isinstance(original, AccessDenied | DomainError)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    extensions: list[Any] = [
        QueryDepthLimiter(max_depth=settings.max_query_depth),
        MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        MaxTokensLimiter(max_token_count=settings.max_tokens),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection())
    if not settings.debug:
        extensions.append(MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."))
    query = merge_types("Query", (OrganizationQuery, _configuration_query()))
    mutation = merge_types("Mutation", (OrganizationMutation, _configuration_mutation()))
    subscription = merge_types("Subscription", (AgentEventsSubscription,))
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=ERROR_TYPES,
        extensions=extensions,
    )


def sdl() -> str:
    """The schema as committed in ``schema.graphql`` (independent of runtime settings)."""
    return build_schema(Settings(debug=True, introspection=True)).as_str() + "\n"
