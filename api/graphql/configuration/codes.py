"""Idle codes and wrap-up codes: a name agents pick and an optional description."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.codes import WRAP_UP_SEARCH_MIN_LENGTH
from domain.configuration.codes import IdleCode as IdleCodeEntity
from domain.configuration.codes import WrapUpCode as WrapUpCodeEntity


@strawberry.type(description="Why an agent is not taking work (the `IDLE` state's code).")
class IdleCode(ConfigurationEntity):
    description: str | None

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "IdleCode":
        assert isinstance(entity, IdleCodeEntity)
        return cls(**base_fields(entity), description=entity.description)


@strawberry.type(description="A wrap-up reason (disposition) an agent gives when a task ends.")
class WrapUpCode(ConfigurationEntity):
    description: str | None

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "WrapUpCode":
        assert isinstance(entity, WrapUpCodeEntity)
        return cls(**base_fields(entity), description=entity.description)


@strawberry.input
class CreateIdleCodeInput:
    name: str
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class UpdateIdleCodeInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    idempotency_key: str | None = None


@strawberry.input
class CreateWrapUpCodeInput:
    name: str
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class UpdateWrapUpCodeInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    idempotency_key: str | None = None


IDLE_CODES = Resource(
    kind=ConfigKind.IDLE_CODE,
    noun="IdleCode",
    plural="idleCodes",
    node=IdleCode,
    create_input=CreateIdleCodeInput,
    update_input=UpdateIdleCodeInput,
)

WRAP_UP_CODES = Resource(
    kind=ConfigKind.WRAP_UP_CODE,
    noun="WrapUpCode",
    plural="wrapUpCodes",
    node=WrapUpCode,
    create_input=CreateWrapUpCodeInput,
    update_input=UpdateWrapUpCodeInput,
    min_search_length=WRAP_UP_SEARCH_MIN_LENGTH,
)
