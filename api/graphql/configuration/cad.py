"""CAD variable definitions: what flows attach to a task and which of it agents see in popovers."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.cad import CadType
from domain.configuration.cad import CadVariable as CadVariableEntity

CadTypeType = strawberry.enum(CadType, name="CadVariableType")


@strawberry.type(
    description="A call-associated data variable (SPEC §7); `name` is its key in flows."
)
class CadVariable(ConfigurationEntity):
    label: str
    var_type: CadType
    display_order: int
    show_in_popover: bool = strawberry.field(
        description="Shown in the offer popover; at most 6 active ones, never a secure one."
    )
    editable: bool
    secure: bool = strawberry.field(description="PII: values are masked as `*****`.")
    default_value: str | None

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "CadVariable":
        assert isinstance(entity, CadVariableEntity)
        return cls(
            **base_fields(entity),
            label=entity.label,
            var_type=entity.var_type,
            display_order=entity.display_order,
            show_in_popover=entity.show_in_popover,
            editable=entity.editable,
            secure=entity.secure,
            default_value=entity.default_value,
        )


@strawberry.input
class CreateCadVariableInput:
    name: str
    label: str
    var_type: CadType = CadType.STRING
    display_order: int = 0
    show_in_popover: bool = False
    editable: bool = False
    secure: bool = False
    default_value: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class UpdateCadVariableInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    label: str | None = strawberry.UNSET
    var_type: CadType | None = strawberry.UNSET
    display_order: int | None = strawberry.UNSET
    show_in_popover: bool | None = strawberry.UNSET
    editable: bool | None = strawberry.UNSET
    secure: bool | None = strawberry.UNSET
    default_value: str | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.CAD_VARIABLE,
    noun="CadVariable",
    plural="cadVariables",
    node=CadVariable,
    create_input=CreateCadVariableInput,
    update_input=UpdateCadVariableInput,
)
