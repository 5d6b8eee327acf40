"""Builds the typed queries and mutations of one configuration kind from its ``Resource``.

Each kind gets ``<plural>``/``<singular>`` queries and ``create``/``update``/``deactivate``/
``reactivate`` mutations with their own inputs and result unions, all running the same use cases.
"""

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any, Union

import strawberry
from strawberry.types.field import StrawberryField

from api.graphql.configuration.common import input_fields
from api.graphql.context import Info
from api.graphql.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
    to_error,
)
from api.graphql.idempotency import idempotency_key
from api.graphql.permissions import IsAdmin, IsAuthenticated
from api.graphql.relay import MAX_PAGE, Connection, connection
from domain.configuration.base import ConfigKind
from domain.errors import DomainError, ValidationFailed
from domain.usecases.configuration import (
    CreateConfiguration,
    SetConfigurationActive,
    UpdateConfiguration,
    create_configuration,
    set_configuration_active,
    update_configuration,
)


@dataclasses.dataclass(frozen=True)
class Resource:
    kind: ConfigKind
    noun: str  # "Team", "EntryPoint": names the types and fields
    plural: str  # "teams", "entryPoints"
    node: Any  # the Strawberry output type, with ``from_entity``
    create_input: Any
    update_input: Any
    # Shortest non-blank ``search`` the list query accepts (SPEC §8: wrap-up codes need 3).
    min_search_length: int = 0

    @property
    def singular(self) -> str:
        return self.noun[0].lower() + self.noun[1:]


def _success(resource: Resource, verb: str) -> Any:
    cls = type(
        f"{verb}{resource.noun}Success", (), {"__annotations__": {resource.singular: resource.node}}
    )
    return strawberry.type(cls, description=f"The {resource.singular} after the change.")


def _result(name: str, *members: Any) -> Any:
    return Annotated[Union[members], strawberry.union(name)]  # noqa: UP007 - a runtime-built union


def _toggle_input(resource: Resource, verb: str) -> Any:
    cls = type(
        f"{verb}{resource.noun}Input",
        (),
        {
            "__annotations__": {
                "id": strawberry.ID,
                "expected_version": int | None,
                "idempotency_key": str | None,
            },
            "expected_version": None,
            "idempotency_key": None,
        },
    )
    return strawberry.input(cls)


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed.single(
            "first", f"range:1-{MAX_PAGE}", f"first must be between 1 and {MAX_PAGE}"
        )
    return first


def _search(search: str | None, min_length: int) -> str | None:
    if search is not None and 0 < len(search.strip()) < min_length:
        rule, message = f"min_length:{min_length}", f"search needs at least {min_length} characters"
        raise ValidationFailed.single("search", rule, message)
    return search


def query_fields(resource: Resource) -> dict[str, StrawberryField]:
    node = resource.node

    async def many(
        info: Info,
        first: int = 50,
        after: str | None = None,
        include_inactive: bool = False,
        search: str | None = None,
    ) -> Connection[node]:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        page = await info.context.services.configuration.page(
            principal.org_id,
            resource.kind,
            first=_page_size(first),
            after=after,
            include_inactive=include_inactive,
            search=_search(search, resource.min_search_length),
        )
        return connection(
            [node.from_entity(entity) for entity in page.items],
            list(page.cursors),
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        )

    async def one(info: Info, id: strawberry.ID) -> node | None:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        entity = await info.context.loaders.configuration_by_id(principal.org_id).load(str(id))
        return None if entity is None or entity.kind != resource.kind else node.from_entity(entity)

    return {
        resource.plural: strawberry.field(resolver=many, permission_classes=[IsAuthenticated]),
        resource.singular: strawberry.field(resolver=one, permission_classes=[IsAuthenticated]),
    }


def mutation_fields(resource: Resource) -> dict[str, StrawberryField]:
    return {
        f"create{resource.noun}": _create(resource),
        f"update{resource.noun}": _update(resource),
        f"deactivate{resource.noun}": _set_active(resource, "Deactivate", active=False),
        f"reactivate{resource.noun}": _set_active(resource, "Reactivate", active=True),
    }


async def _run(
    info: Info,
    resource: Resource,
    success: Any,
    key: str | None,
    handler: Callable[..., Any],
    build: Callable[..., Any],
) -> Any:
    """Run one use case for the caller and map its outcome: the success type or a typed error."""
    principal = info.context.require_principal()
    operation = success.__name__.removesuffix("Success")
    operation = operation[0].lower() + operation[1:]
    try:
        command = build(principal)
        entity = await info.context.services.runner.run(
            handler, command, idempotency_key=idempotency_key(principal, operation, key)
        )
    except DomainError as error:
        return to_error(error)
    return success(**{resource.singular: resource.node.from_entity(entity)})


def _chosen_id(data: Any) -> str | None:
    """Create inputs that offer an ``id`` let integrators keep their own (agents: the token ``sub``)."""
    chosen = getattr(data, "id", None)
    return None if chosen is None else str(chosen)


def _create(resource: Resource) -> StrawberryField:
    success = _success(resource, "Create")
    result = _result(f"Create{resource.noun}Result", success, ValidationError)

    async def resolve(info: Info, input: resource.create_input) -> result:  # type: ignore[name-defined]
        return await _run(
            info,
            resource,
            success,
            input.idempotency_key,
            create_configuration,
            lambda principal: CreateConfiguration(
                actor=principal.as_actor(),
                org_id=principal.org_id,
                kind=resource.kind,
                fields=input_fields(resource.kind, input),
                entity_id=_chosen_id(input),
            ),
        )

    return strawberry.mutation(resolver=resolve, permission_classes=[IsAdmin])


def _update(resource: Resource) -> StrawberryField:
    success = _success(resource, "Update")
    result = _result(
        f"Update{resource.noun}Result", success, ValidationError, NotFoundError, ConflictError
    )

    async def resolve(info: Info, input: resource.update_input) -> result:  # type: ignore[name-defined]
        return await _run(
            info,
            resource,
            success,
            input.idempotency_key,
            update_configuration,
            lambda principal: UpdateConfiguration(
                actor=principal.as_actor(),
                org_id=principal.org_id,
                kind=resource.kind,
                entity_id=str(input.id),
                changes=input_fields(resource.kind, input),
                expected_version=input.expected_version,
            ),
        )

    return strawberry.mutation(resolver=resolve, permission_classes=[IsAdmin])


def _set_active(resource: Resource, verb: str, *, active: bool) -> StrawberryField:
    success = _success(resource, verb)
    toggle_input = _toggle_input(resource, verb)
    result = _result(
        f"{verb}{resource.noun}Result",
        success,
        ValidationError,
        NotFoundError,
        InvalidStateError,
        ConflictError,
    )

    async def resolve(info: Info, input: toggle_input) -> result:  # type: ignore[valid-type]
        return await _run(
            info,
            resource,
            success,
            input.idempotency_key,
            set_configuration_active,
            lambda principal: SetConfigurationActive(
                actor=principal.as_actor(),
                org_id=principal.org_id,
                kind=resource.kind,
                entity_id=str(input.id),
                active=active,
                expected_version=input.expected_version,
            ),
        )

    return strawberry.mutation(resolver=resolve, permission_classes=[IsAdmin])
