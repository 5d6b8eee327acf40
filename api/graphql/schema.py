"""Assembles the schema from its areas, with the limits and masking of DESIGN "Identity and
security"."""

from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.graphql.agent_events import AgentEventsSubscription
from api.graphql.agent_states import AgentStatesMutation, AgentStatesQuery
from api.graphql.cad import CadMutation, CadSubscription
from api.graphql.callback_events import CallbacksSubscription
from api.graphql.callback_requests import CallbackRequestsMutation
from api.graphql.callbacks import CallbacksMutation, CallbacksQuery
from api.graphql.calls import CallsMutation
from api.graphql.chat import ChatMutation
from api.graphql.checked_documents import document_limits
from api.graphql.configuration.crud import mutation_fields, query_fields
from api.graphql.configuration.registry import RESOURCES
from api.graphql.contacts import ContactsMutation
from api.graphql.deliveries import DeliveriesSubscription
from api.graphql.error_codes import DomainErrorCodes
from api.graphql.errors import ERROR_TYPES
from api.graphql.history import HistoryQuery
from api.graphql.messages import MessagesQuery
from api.graphql.offers import OffersMutation, OffersQuery, OffersSubscription
from api.graphql.organization import OrganizationMutation, OrganizationQuery
from api.graphql.outbound import OutboundMutation
from api.graphql.permissions import AccessDenied
from api.graphql.sessions import SessionsMutation, SessionsQuery
from api.graphql.supervision import SupervisionQuery, SupervisionSubscription
from api.graphql.task_events import TaskEventsSubscription
from api.graphql.tasks import TasksQuery
from api.settings import Settings
from domain.errors import DomainError
from domain.ports import TransientConflict


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
    return not isinstance(original, AccessDenied | DomainError | TransientConflict)


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only the unexpected errors (with their traceback, before masking): a refused token
        or a limit hit is the client's business, and logging each at ERROR would let anyone
        flood the log."""
        super().process_errors([e for e in errors if _should_mask(e)], execution_context)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # Factories, not instances: an extension keeps the operation it serves on itself, so one
    # instance shared by concurrent operations masks the wrong result and leaks the other's
    # internal errors (strawberry-graphql/strawberry#4369).
    extensions: list[Any] = [DomainErrorCodes, document_limits(settings)]
    if not settings.debug:
        extensions.append(
            partial(MaskErrors, should_mask_error=_should_mask, error_message="Unexpected error.")
        )
    query = merge_types(
        "Query",
        (
            OrganizationQuery,
            _configuration_query(),
            AgentStatesQuery,
            TasksQuery,
            OffersQuery,
            SupervisionQuery,
            CallbacksQuery,
            SessionsQuery,
            HistoryQuery,
            MessagesQuery,
        ),
    )
    mutation = merge_types(
        "Mutation",
        (
            OrganizationMutation,
            _configuration_mutation(),
            AgentStatesMutation,
            ContactsMutation,
            OffersMutation,
            CallsMutation,
            CallbacksMutation,
            CallbackRequestsMutation,
            ChatMutation,
            OutboundMutation,
            SessionsMutation,
            CadMutation,
        ),
    )
    subscription = merge_types(
        "Subscription",
        (
            AgentEventsSubscription,
            OffersSubscription,
            SupervisionSubscription,
            TaskEventsSubscription,
            CallbacksSubscription,
            DeliveriesSubscription,
            CadSubscription,
        ),
    )
    return _Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=ERROR_TYPES,
        extensions=extensions,
        # "Did you mean ...?" would spell out the schema that disabled introspection hides.
        config=StrawberryConfig(disable_field_suggestions=not settings.introspection_enabled),
    )


def sdl() -> str:
    """The schema as committed in ``schema.graphql`` (independent of runtime settings)."""
    return build_schema(Settings(debug=True, introspection=True)).as_str() + "\n"
