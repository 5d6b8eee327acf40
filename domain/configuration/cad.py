"""CAD variable definitions (SPEC §7) and the rule every CAD value obeys, whoever writes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from domain.configuration.base import ConfigEntity, ConfigKind
from domain.errors import Violation
from domain.validation import Rules

CAD_VALUE_MAX_LENGTH = 256
MAX_POPOVER_VARIABLES = 6
DISPLAY_ORDER_MAX = 1000
LABEL_MAX_LENGTH = 100
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# ASCII digits only: ``int()`` and ``\d`` also take other scripts' digits, "1_000" and spaces.
_INTEGER = re.compile(r"[+-]?[0-9]+")
# ISO 8601 extended date and time with a mandatory zone (what JavaScript, Java and Python emit):
# a CAD time without a zone means different instants to agents in different places.
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
)


class CadType(StrEnum):
    STRING = "STRING"
    INTEGER = "INTEGER"
    BOOLEAN = "BOOLEAN"
    DATETIME = "DATETIME"


def _is_integer(value: str) -> bool:
    return bool(_INTEGER.fullmatch(value)) and _INT64_MIN <= int(value) <= _INT64_MAX


def _is_boolean(value: str) -> bool:
    return value in ("true", "false")


def _is_datetime(value: str) -> bool:
    if not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)  # the pattern checks the shape, this the calendar
    except ValueError:
        return False
    return True


_TYPE_CHECKS: dict[CadType, Callable[[str], bool]] = {
    CadType.INTEGER: _is_integer,
    CadType.BOOLEAN: _is_boolean,
    CadType.DATETIME: _is_datetime,
}
_TYPE_HINTS = {
    CadType.INTEGER: "a whole number between -2^63 and 2^63-1",
    CadType.BOOLEAN: "'true' or 'false'",
    CadType.DATETIME: "an ISO 8601 date and time with a zone, e.g. 2024-05-01T09:30:00Z",
}


def cad_value_rule(var_type: CadType, value: str) -> str | None:
    """The rule ``value`` breaks as a value of ``var_type`` (``max_length:256``, ``integer``,
    ``boolean``, ``datetime``), or None when it is valid. Values travel as strings."""
    if len(value) > CAD_VALUE_MAX_LENGTH:
        return f"max_length:{CAD_VALUE_MAX_LENGTH}"
    check = _TYPE_CHECKS.get(var_type)
    if check is None or check(value):
        return None
    return var_type.value.lower()


def cad_value_violation(field: str, var_type: CadType, value: str) -> Violation | None:
    rule = cad_value_rule(var_type, value)
    if rule is None:
        return None
    if rule.startswith("max_length"):
        return Violation(
            field, rule, f"{field} must have at most {CAD_VALUE_MAX_LENGTH} characters"
        )
    return Violation(field, rule, f"{field} must be {_TYPE_HINTS[var_type]}")


@dataclass(frozen=True, kw_only=True)
class CadVariable(ConfigEntity):
    """``name`` is the key flows and integrations use; ``label`` is what agents read."""

    kind = ConfigKind.CAD_VARIABLE
    # At most six popover variables per organization: the limit spans every active definition.
    has_collection_rules: ClassVar[bool] = True

    label: str
    var_type: CadType = CadType.STRING
    display_order: int = 0
    show_in_popover: bool = False
    editable: bool = False
    # PII: values are masked and never shown in an offer popover (SPEC §3, §7).
    secure: bool = False
    default_value: str | None = None

    def add_rules(self, rules: Rules) -> None:
        if self.name.strip():  # an empty name is already reported as required
            rules.identifier("name", self.name)
        rules.text("label", self.label, max_length=LABEL_MAX_LENGTH)
        rules.int_range("displayOrder", self.display_order, minimum=0, maximum=DISPLAY_ORDER_MAX)
        if self.secure and self.show_in_popover:
            rules.fail(
                "showInPopover",
                "secure_not_in_popover",
                "a secure variable is never shown in a popover",
            )
        if self.default_value is None:
            return
        if self.secure:
            # Any authenticated caller reads definitions: a default here would publish the PII.
            rules.fail(
                "defaultValue", "secure_no_default", "a secure variable cannot have a default value"
            )
            return
        violation = cad_value_violation("defaultValue", self.var_type, self.default_value)
        if violation is not None:
            rules.extend([violation])

    def collection_violations(self, siblings: list[ConfigEntity]) -> list[Violation]:
        if not self.show_in_popover:
            return []
        shown = sum(
            1 for other in siblings if isinstance(other, CadVariable) and other.show_in_popover
        )
        if shown < MAX_POPOVER_VARIABLES:
            return []
        rule = f"max_popover:{MAX_POPOVER_VARIABLES}"
        message = f"at most {MAX_POPOVER_VARIABLES} active variables are shown in the popover"
        return [Violation("showInPopover", rule, message)]
