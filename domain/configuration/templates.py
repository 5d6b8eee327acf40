"""Message templates for outbound SMS and email (SPEC §1, §10), with ``{{placeholder}}`` fields."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.validation import Rules

TEMPLATE_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL})
SUBJECT_MAX_LENGTH = 200
# 1600 characters is what carriers concatenate at most (ten 160-character segments).
BODY_MAX_LENGTH = {Channel.SMS: 1600, Channel.EMAIL: 4000}
_OPEN, _CLOSE = "{{", "}}"
_PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class PlaceholderError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position + 1}")
        self.position = position


def parse_placeholders(text: str) -> tuple[str, ...]:
    """The distinct placeholder names of ``text`` in order of first use.

    A placeholder is ``{{name}}`` with an identifier inside and nothing else (no spaces), so what
    an admin saves is exactly what gets filled in. Single braces are ordinary text; a ``{{``
    without its ``}}``, a stray ``}}`` or a non-identifier name raise ``PlaceholderError``.
    """
    names: dict[str, None] = {}
    position = 0
    while True:
        opening = text.find(_OPEN, position)
        closing = text.find(_CLOSE, position)
        if closing != -1 and (opening == -1 or closing < opening):
            raise PlaceholderError("'}}' without a matching '{{'", closing)
        if opening == -1:
            return tuple(names)
        closing = text.find(_CLOSE, opening + len(_OPEN))
        if closing == -1:
            raise PlaceholderError("'{{' is never closed by '}}'", opening)
        name = text[opening + len(_OPEN) : closing]
        if not _PLACEHOLDER_NAME.fullmatch(name):
            raise PlaceholderError(
                f"{{{{{name}}}}} is not a placeholder: use letters, digits and '_' (at most 64)",
                opening,
            )
        names[name] = None
        position = closing + len(_CLOSE)


@dataclass(frozen=True, kw_only=True)
class MessageTemplate(ConfigEntity):
    kind = ConfigKind.MESSAGE_TEMPLATE

    channel: Channel
    body: str
    # Email only: an email needs a subject, an SMS has nowhere to put one.
    subject: str | None = None

    def add_rules(self, rules: Rules) -> None:
        if self.channel not in TEMPLATE_CHANNELS:
            rules.fail("channel", "template_channel", "templates are for SMS or EMAIL")
        else:
            rules.text("body", self.body, max_length=BODY_MAX_LENGTH[self.channel])
            self._subject_rules(rules)
        for field, text in (("subject", self.subject), ("body", self.body)):
            try:
                parse_placeholders(text or "")
            except PlaceholderError as error:
                rules.fail(field, "placeholder", f"{field}: {error}")

    def _subject_rules(self, rules: Rules) -> None:
        if self.channel is Channel.SMS:
            if self.subject is not None:
                rules.fail("subject", "forbidden", "an SMS template has no subject")
        elif self.subject is None:
            rules.fail("subject", "required", "an email template needs a subject")
        else:
            rules.text("subject", self.subject, max_length=SUBJECT_MAX_LENGTH)
            # A line break in a subject would let text escape into other mail headers.
            if "\n" in self.subject or "\r" in self.subject:
                rules.fail("subject", "single_line", "a subject is one line")

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Every placeholder the template uses, subject first (empty if it does not parse)."""
        try:
            return tuple(
                dict.fromkeys(
                    parse_placeholders(self.subject or "") + parse_placeholders(self.body)
                )
            )
        except PlaceholderError:
            return ()
