"""Organization-wide policies (SPEC §1): recording, PCI, sensitive data, wrap-up, callbacks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels import Channel, Direction
from domain.configuration.base import ConfigKind, Reference
from domain.configuration.entry_points import EntryPoint
from domain.errors import Violation
from domain.validation import Rules


class PciPolicy(StrEnum):
    REDACT = "REDACT"
    DROP = "DROP"


MAX_PII_PATTERNS = 20


@dataclass(frozen=True, kw_only=True)
class OrganizationPolicies:
    org_id: str
    recording_enabled: bool = True
    recording_pause_seconds: int = 60
    pci_policy: PciPolicy = PciPolicy.REDACT
    pii_patterns: tuple[str, ...] = ()
    mask_caller_number: bool = False
    # None: no wrap-up timeout (SPEC §1: "default off").
    wrap_up_timeout_seconds: int | None = None
    default_wrap_up_code_id: str | None = None
    callback_entry_point_id: str | None = None
    concurrent_call_limit: int | None = None
    presence_grace_seconds: int = 60
    version: int = 0
    updated_at: datetime | None = None

    def validate(self) -> list[Violation]:
        rules = Rules()
        rules.int_range(
            "recordingPauseSeconds", self.recording_pause_seconds, minimum=5, maximum=3600
        )
        rules.int_range(
            "presenceGraceSeconds", self.presence_grace_seconds, minimum=5, maximum=3600
        )
        if self.wrap_up_timeout_seconds is not None:
            rules.int_range(
                "wrapUpTimeoutSeconds", self.wrap_up_timeout_seconds, minimum=5, maximum=86400
            )
            if self.default_wrap_up_code_id is None:
                rules.fail(
                    "defaultWrapUpCodeId",
                    "required_with:wrapUpTimeoutSeconds",
                    "a wrap-up timeout needs a default wrap-up code to apply",
                )
        if self.concurrent_call_limit is not None:
            rules.int_range(
                "concurrentCallLimit", self.concurrent_call_limit, minimum=1, maximum=100000
            )
        if len(self.pii_patterns) > MAX_PII_PATTERNS:
            rules.fail(
                "piiPatterns",
                f"max_items:{MAX_PII_PATTERNS}",
                f"at most {MAX_PII_PATTERNS} PII patterns",
            )
        for index, pattern in enumerate(self.pii_patterns):
            field = f"piiPatterns.{index}"
            rules.text(field, pattern, max_length=200)
            _pattern_rules(rules, field, pattern)
        return rules.violations

    def reference_violations(self, targets: Mapping[Reference, object]) -> list[Violation]:
        """Rules over the referenced entities found active (like ``ConfigEntity``'s hook of
        that name): callbacks are dialled out, so their entry point must be outbound voice."""
        return [
            Violation(
                ref.field,
                "outbound_voice",
                f"the callback entry point must be an OUTBOUND VOICE entry point "
                f"(it is {target.direction} {target.channel})",
            )
            for ref, target in targets.items()
            if isinstance(target, EntryPoint)
            and ref.field == "callbackEntryPointId"
            and (target.channel is not Channel.VOICE or target.direction is not Direction.OUTBOUND)
        ]

    def references(self) -> list[Reference]:
        refs = []
        if self.default_wrap_up_code_id is not None:
            refs.append(
                Reference(
                    "defaultWrapUpCodeId", ConfigKind.WRAP_UP_CODE, self.default_wrap_up_code_id
                )
            )
        if self.callback_entry_point_id is not None:
            refs.append(
                Reference(
                    "callbackEntryPointId", ConfigKind.ENTRY_POINT, self.callback_entry_point_id
                )
            )
        return refs


def _pattern_rules(rules: Rules, field: str, pattern: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error:
        rules.fail(field, "regex", f"{field} is not a valid regular expression")
        return
    # A pattern that matches empty text (``\d*``, ``a|``) "finds" PII between every character:
    # REDACT would mask nothing while DROP would drop every message.
    if compiled.search("") is not None:
        rules.fail(field, "matches_empty", f"{field} must not match empty text")
