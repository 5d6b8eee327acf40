"""PCI DSS screening (SPEC §10, seed 004): payment card numbers and configured PII patterns are
found in message content and masked (``REDACT``) or the message is dropped (``DROP``) before
anything is stored, emitted or logged.

A card number is a run of 13 to 19 digits, single spaces or dashes allowed between them, that
passes the Luhn check. A run is checked as a whole and, when separators split it into groups, also
window by window along the group boundaries: a card typed with its security code or expiry right
behind it (``4111 1111 1111 1111 123``) must not slip through because the longer run fails Luhn.
A run without separators is one number: checked only as a whole (long ids are not cards).
Masking keeps none of the digits (not even the last four: nothing here needs them).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from domain.configuration.policies import OrganizationPolicies, PciPolicy
from domain.errors import ErrorCode, Rejected
from domain.messaging.message import Attachment, MessageDraft
from domain.tasks.task import TranscriptLine

MIN_DIGITS = 13
MAX_DIGITS = 19
MASK = "*"
# Separators a customer types between digit groups: space, no-break space, dashes.
_SEPARATORS = " \u00a0-\u2010\u2011\u2012\u2013\u2212"
_RUN = re.compile(rf"\d(?:[{re.escape(_SEPARATORS)}]?\d)*")
DROPPED_MESSAGE = (
    "the message contains a payment card number or other protected data and was dropped "
    "(PCI DSS policy DROP)"
)


class Finding(StrEnum):
    CARD_NUMBER = "CARD_NUMBER"
    PII = "PII"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    finding: Finding


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for run in _RUN.finditer(text):
        spans += _cards_in_run(run.group(), run.start())
    return spans


def _cards_in_run(run: str, offset: int) -> list[Span]:
    positions = [i for i, char in enumerate(run) if char.isdigit()]
    digits = "".join(run[i] for i in positions)
    # Group boundaries, as indexes into ``digits``: where a group starts, where one ends.
    starts = [0] + [k for k in range(1, len(positions)) if positions[k] - positions[k - 1] > 1]
    ends = [*starts[1:], len(digits)]
    found: list[Span] = []
    for first in starts:
        for last in ends:
            if MIN_DIGITS <= last - first <= MAX_DIGITS and luhn_valid(digits[first:last]):
                found.append(
                    Span(
                        offset + positions[first],
                        offset + positions[last - 1] + 1,
                        Finding.CARD_NUMBER,
                    )
                )
    return found


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def pii_spans(text: str, patterns: Iterable[str]) -> list[Span]:
    spans = []
    for pattern in patterns:
        for match in _compiled(pattern).finditer(text):
            if match.end() > match.start():
                spans.append(Span(match.start(), match.end(), Finding.PII))
    return spans


def findings(text: str, patterns: Sequence[str] = ()) -> list[Span]:
    return card_spans(text) + pii_spans(text, patterns)


def masked(text: str, spans: Iterable[Span]) -> str:
    """``text`` with every digit of a card number and every character of a PII match masked;
    a card's separators stay, so the reader still sees that a number was there."""
    chars = list(text)
    for span in spans:
        for index in range(span.start, span.end):
            if span.finding is Finding.PII or chars[index].isdigit():
                chars[index] = MASK
    return "".join(chars)


def mask_all(text: str, patterns: Sequence[str] = ()) -> str:
    return masked(text, findings(text, patterns))


@dataclass(frozen=True)
class Screened:
    draft: MessageDraft
    # Something was masked or an attachment withheld.
    redacted: bool
    withheld_attachments: int = 0


def screen(draft: MessageDraft, policy: PciPolicy, patterns: Sequence[str] = ()) -> Screened:
    """The draft as it may be stored and delivered. ``DROP`` with anything found raises
    ``Rejected(PCI_VIOLATION)`` — with a message that never quotes the match; ``REDACT`` masks
    the text, subject and body and withholds every attachment whose name or URL holds a match
    (an attachment that violates the policy is never sent, seed 004)."""
    texts = [draft.text, draft.subject or "", draft.html or ""]
    violating = [a for a in draft.attachments if _violates(a, patterns)]
    found = any(findings(text, patterns) for text in texts)
    if not found and not violating:
        return Screened(draft, redacted=False)
    if policy is PciPolicy.DROP:
        raise Rejected(ErrorCode.PCI_VIOLATION, DROPPED_MESSAGE)
    cleaned = dataclasses.replace(
        draft,
        text=mask_all(draft.text, patterns),
        subject=None if draft.subject is None else mask_all(draft.subject, patterns),
        html=None if draft.html is None else mask_all(draft.html, patterns),
        attachments=tuple(a for a in draft.attachments if a not in violating),
    )
    return Screened(cleaned, redacted=True, withheld_attachments=len(violating))


def _violates(attachment: Attachment, patterns: Sequence[str]) -> bool:
    return any(findings(value, patterns) for value in (attachment.name, attachment.url or ""))


def screened_subject(subject: str | None, policies: OrganizationPolicies) -> str | None:
    """A contact's subject (an email's, as the customer wrote it) as it may be stored: masked
    (``REDACT``) or left out (``DROP``) — the contact itself is kept: the customer is waiting."""
    if subject is None:
        return None
    spans = findings(subject, policies.pii_patterns)
    if not spans:
        return subject
    return masked(subject, spans) if policies.pci_policy is PciPolicy.REDACT else None


def screened_transcript(
    lines: Sequence[TranscriptLine], policies: OrganizationPolicies
) -> tuple[TranscriptLine, ...]:
    """The bot's conversation as it may be stored: a line with a match is masked (``REDACT``) or
    left out (``DROP``) — the customer typed it before any agent was there to see it."""
    kept = []
    for line in lines:
        spans = findings(line.text, policies.pii_patterns)
        if not spans:
            kept.append(line)
        elif policies.pci_policy is PciPolicy.REDACT:
            kept.append(dataclasses.replace(line, text=masked(line.text, spans)))
    return tuple(kept)
