"""The caller, its organization and the organization's policies."""

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.graphql.configuration.common import camel, to_domain_value
from api.graphql.context import Info
from api.graphql.errors import ConflictError, ValidationError, to_error
from api.graphql.idempotency import idempotency_key
from api.graphql.permissions import IsAdmin, IsAuthenticated
from domain.configuration.policies import OrganizationPolicies, PciPolicy
from domain.errors import DomainError, ValidationFailed, Violation
from domain.identity import Role
from domain.usecases.configuration import UpdatePolicies, update_policies

RoleType = strawberry.enum(Role, name="Role")
PciPolicyType = strawberry.enum(PciPolicy, name="PciPolicy")


@strawberry.type(description="Organization-wide policies (SPEC §1).")
class Policies:
    recording_enabled: bool
    recording_pause_seconds: int
    pci_policy: PciPolicy
    pii_patterns: list[str]
    mask_caller_number: bool = strawberry.field(
        description="Sensitive-data protection: show only the last 4 digits of caller numbers."
    )
    wrap_up_timeout_seconds: int | None
    default_wrap_up_code_id: strawberry.ID | None
    callback_entry_point_id: strawberry.ID | None
    concurrent_call_limit: int | None
    presence_grace_seconds: int
    version: int
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, policies: OrganizationPolicies) -> "Policies":
        return cls(
            recording_enabled=policies.recording_enabled,
            recording_pause_seconds=policies.recording_pause_seconds,
            pci_policy=policies.pci_policy,
            pii_patterns=list(policies.pii_patterns),
            mask_caller_number=policies.mask_caller_number,
            wrap_up_timeout_seconds=policies.wrap_up_timeout_seconds,
            default_wrap_up_code_id=_id(policies.default_wrap_up_code_id),
            callback_entry_point_id=_id(policies.callback_entry_point_id),
            concurrent_call_limit=policies.concurrent_call_limit,
            presence_grace_seconds=policies.presence_grace_seconds,
            version=policies.version,
            updated_at=policies.updated_at,
        )


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


@strawberry.type
class Organization:
    id: strawberry.ID

    @strawberry.field
    async def policies(self, info: Info) -> Policies:
        return Policies.from_domain(
            await info.context.services.configuration.policies(str(self.id))
        )


@strawberry.type(description="Who the token says you are.")
class Me:
    subject: str
    organization_id: strawberry.ID
    roles: list[Role]


@strawberry.input
class UpdatePoliciesInput:
    expected_version: int | None = None
    recording_enabled: bool | None = strawberry.UNSET
    recording_pause_seconds: int | None = strawberry.UNSET
    pci_policy: PciPolicy | None = strawberry.UNSET
    pii_patterns: list[str] | None = strawberry.UNSET
    mask_caller_number: bool | None = strawberry.UNSET
    wrap_up_timeout_seconds: int | None = strawberry.UNSET
    default_wrap_up_code_id: strawberry.ID | None = strawberry.UNSET
    callback_entry_point_id: strawberry.ID | None = strawberry.UNSET
    concurrent_call_limit: int | None = strawberry.UNSET
    presence_grace_seconds: int | None = strawberry.UNSET
    idempotency_key: str | None = None


@strawberry.type
class UpdatePoliciesSuccess:
    policies: Policies


UpdatePoliciesResult = Annotated[
    Union[UpdatePoliciesSuccess, ValidationError, ConflictError],  # noqa: UP007
    strawberry.union("UpdatePoliciesResult"),
]

_NULLABLE_POLICIES = frozenset(
    {
        "wrap_up_timeout_seconds",
        "default_wrap_up_code_id",
        "callback_entry_point_id",
        "concurrent_call_limit",
    }
)


def _policy_changes(data: UpdatePoliciesInput) -> dict[str, object]:
    changes: dict[str, object] = {}
    violations = []
    for name, value in vars(data).items():
        if name in ("expected_version", "idempotency_key") or value is strawberry.UNSET:
            continue
        if value is None and name not in _NULLABLE_POLICIES:
            violations.append(Violation(camel(name), "required", f"{camel(name)} cannot be null"))
            continue
        changes[name] = to_domain_value(value)
    if violations:
        raise ValidationFailed(violations)
    return changes


@strawberry.type
class OrganizationQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def me(self, info: Info) -> Me:
        principal = info.context.require_principal()
        return Me(
            subject=principal.subject,
            organization_id=strawberry.ID(principal.org_id),
            roles=sorted(principal.roles),
        )

    @strawberry.field(permission_classes=[IsAuthenticated])
    def organization(self, info: Info) -> Organization:
        return Organization(id=strawberry.ID(info.context.require_principal().org_id))


@strawberry.type
class OrganizationMutation:
    @strawberry.mutation(permission_classes=[IsAdmin])
    async def update_policies(self, info: Info, input: UpdatePoliciesInput) -> UpdatePoliciesResult:
        principal = info.context.require_principal()
        try:
            command = UpdatePolicies(
                actor=principal.as_actor(),
                org_id=principal.org_id,
                changes=_policy_changes(input),
                expected_version=input.expected_version,
            )
            policies = await info.context.services.runner.run(
                update_policies,
                command,
                idempotency_key=idempotency_key(principal, "updatePolicies", input.idempotency_key),
            )
        except DomainError as error:
            return to_error(error)
        return UpdatePoliciesSuccess(policies=Policies.from_domain(policies))
