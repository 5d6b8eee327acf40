"""Dial numbers: named external numbers to consult, transfer to or dial."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from domain.configuration import dial_numbers as domain
from domain.configuration.base import ConfigEntity, ConfigKind


@strawberry.type(description="A named external number (SPEC §1); names and numbers are unique.")
class DialNumber(ConfigurationEntity):
    number: str

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "DialNumber":
        assert isinstance(entity, domain.DialNumber)
        return cls(**base_fields(entity), number=entity.number)


@strawberry.input
class CreateDialNumberInput:
    name: str
    number: str
    idempotency_key: str | None = None


@strawberry.input
class UpdateDialNumberInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    number: str | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.DIAL_NUMBER,
    noun="DialNumber",
    plural="dialNumbers",
    node=DialNumber,
    create_input=CreateDialNumberInput,
    update_input=UpdateDialNumberInput,
)
