"""CAD values, conflicts and their timeline events as the schema shows them (SPEC §7). Secure
values read ``*****`` in every type here; only ``revealCadVariable`` returns one in clear."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime

import strawberry
from strawberry.dataloader import DataLoader

from api.graphql.configuration.cad import CadTypeType  # noqa: F401 - registers the enum
from api.graphql.context import Info
from api.graphql.errors import ErrorCodeType  # noqa: F401 - registers the enum
from api.graphql.events import (
    ActorKindType,  # noqa: F401 - registers the enum
    Event,
    event_fields,
)
from api.graphql.loaders import Loaders
from domain.configuration.base import ConfigKind
from domain.configuration.cad import CadType, CadVariable
from domain.errors import ErrorCode
from domain.events import StoredEvent
from domain.identity import Actor, ActorKind
from domain.tasks import cad as domain
from domain.tasks.status import TaskStatus
from domain.tasks.task import CadValue as DomainCadValue
from persistence.configuration_queries import ConfigurationQueries

_DEFINITIONS_PAGE = 500

DefinitionsLoader = DataLoader[str, Mapping[str, CadVariable]]
# One loader per request (per pushed event on a WebSocket): the Loaders object is that scope.
_loaders: weakref.WeakKeyDictionary[Loaders, DefinitionsLoader] = weakref.WeakKeyDictionary()


async def _all_definitions(queries: ConfigurationQueries, org_id: str) -> Mapping[str, CadVariable]:
    """Every definition of the organization by name; an active one wins over a retired namesake
    (values of retired variables keep their label)."""
    found: list[CadVariable] = []
    after: str | None = None
    while True:
        page = await queries.page(
            org_id,
            ConfigKind.CAD_VARIABLE,
            first=_DEFINITIONS_PAGE,
            after=after,
            include_inactive=True,
        )
        found += [v for v in page.items if isinstance(v, CadVariable)]
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    return {v.name: v for v in sorted(found, key=lambda v: v.active)}


async def definition(info: Info, org_id: str, name: str) -> CadVariable | None:
    loaders = info.context.loaders
    if loaders not in _loaders:
        queries = info.context.services.configuration

        async def load(org_ids: Sequence[str]) -> list[Mapping[str, CadVariable]]:
            return [await _all_definitions(queries, org) for org in org_ids]

        _loaders[loaders] = DataLoader(load_fn=load)
    return (await _loaders[loaders].load(org_id)).get(name)


@strawberry.type(
    description="Who saved a CAD value: an agent (with the name the call shows) or the "
    "flow/connector."
)
class CadAuthor:
    kind: ActorKind
    id: str
    name: str | None


def author_of(actor: Actor | None, name: str | None) -> CadAuthor | None:
    return None if actor is None else CadAuthor(kind=actor.kind, id=actor.id, name=name)


@strawberry.type(
    description="A CAD variable's value on a task as last saved. Secure values read `*****` "
    "(revealCadVariable shows one, audited)."
)
class CadValue:
    name: str
    value: str
    secure: bool
    version: int = strawberry.field(
        description="0: never saved; 1: as the connector reported it; one more per save. "
        "saveCadVariables takes it as `expectedVersion`."
    )
    saved_by: CadAuthor | None
    saved_at: datetime | None
    org_id: strawberry.Private[str]

    @strawberry.field(description="The definition's label (null if the definition is gone).")
    async def label(self, info: Info) -> str | None:
        variable = await definition(info, self.org_id, self.name)
        return None if variable is None else variable.label

    @strawberry.field(description="The definition's type (null if the definition is gone).")
    async def var_type(self, info: Info) -> CadType | None:
        variable = await definition(info, self.org_id, self.name)
        return None if variable is None else variable.var_type

    @strawberry.field(description="Whether agents may save this variable (active and editable).")
    async def editable(self, info: Info) -> bool:
        variable = await definition(info, self.org_id, self.name)
        return variable is not None and variable.active and variable.editable


def cad_value_of(org_id: str, entry: DomainCadValue) -> CadValue:
    return CadValue(
        name=entry.name,
        value=domain.shown_value(entry),
        secure=entry.secure,
        version=entry.version,
        saved_by=author_of(entry.saved_by, entry.saved_by_name),
        saved_at=entry.saved_at,
        org_id=org_id,
    )


@strawberry.type(
    description="A variable somebody else saved first (code CONFLICT): the value that won "
    "(`*****` if secure), who saved it, when, and its version — save against that to overwrite."
)
class CadConflict:
    code: ErrorCode
    name: str
    value: str
    secure: bool
    version: int
    expected_version: int = strawberry.field(description="The version the losing save expected.")
    saved_by: CadAuthor | None
    saved_at: datetime | None


def conflict_of(conflict: domain.CadConflict) -> CadConflict:
    return CadConflict(
        code=ErrorCode.CONFLICT,
        name=conflict.name,
        value=domain.SECURE_MASK if conflict.secure else conflict.value,
        secure=conflict.secure,
        version=conflict.version,
        expected_version=conflict.expected_version,
        saved_by=author_of(conflict.saved_by, conflict.saved_by_name),
        saved_at=conflict.saved_at,
    )


# --- events -------------------------------------------------------------------------------------


@strawberry.type(description="One saved variable; a secure one's value reads `*****`.")
class CadChange:
    name: str
    value: str
    secure: bool
    version: int


@strawberry.type(description="CAD variables were saved, by an agent or the flow (`cause`).")
class CadVariablesSaved(Event):
    status: TaskStatus
    version: int = strawberry.field(description="The task's version after the save.")
    variables: list[CadChange]


@strawberry.type(
    description="The audit trail of a reveal: `cause` saw the clear value of `name` (at "
    "`valueVersion`). The value itself is never recorded."
)
class CadVariableRevealed(Event):
    status: TaskStatus
    version: int
    name: str
    value_version: int


@strawberry.type(description="A save of yours lost: `conflict` says what won, by whom, when.")
class CadConflictNotice(Event):
    task_id: strawberry.ID
    conflict: CadConflict


def timeline_entry(stored: StoredEvent) -> CadVariablesSaved | CadVariableRevealed | None:
    event = stored.event
    if isinstance(event, domain.CadVariablesSaved):
        return CadVariablesSaved(
            **event_fields(stored),
            status=event.status,
            version=event.version,
            variables=[
                CadChange(
                    name=change.name,
                    value=domain.SECURE_MASK if change.value is None else change.value,
                    secure=change.secure,
                    version=change.version,
                )
                for change in event.changes
            ],
        )
    if isinstance(event, domain.CadVariableRevealed):
        return CadVariableRevealed(
            **event_fields(stored),
            status=event.status,
            version=event.version,
            name=event.name,
            value_version=event.value_version,
        )
    return None


def conflict_notice(stored: StoredEvent) -> CadConflictNotice | None:
    event = stored.event
    if not isinstance(event, domain.CadConflictOccurred):
        return None
    return CadConflictNotice(
        **event_fields(stored),
        task_id=strawberry.ID(event.task_id),
        conflict=conflict_of(event.conflict),
    )
