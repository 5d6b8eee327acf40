"""Text rules of callbacks (seed 002): a phone number as typed, and names and reasons counted in
Unicode characters."""

from __future__ import annotations

import unicodedata

from domain.validation import Rules


def normalized_text(value: str) -> str:
    """How names and reasons are counted and stored: trimmed, NFC."""
    return unicodedata.normalize("NFC", value.strip())


def unicode_text(
    rules: Rules,
    field: str,
    value: str | None,
    *,
    length: tuple[int, int],
    allowed: frozenset[str] = frozenset(),
) -> None:
    minimum, maximum = length
    text = normalized_text(value or "")
    if minimum and not text:
        rules.fail(field, "required", f"{field} is required")
        return
    if any(_invalid_character(c) and c not in allowed for c in text):
        rules.fail(field, "characters", f"{field} holds control or invalid characters")
    if len(text) > maximum or len(text) < minimum:
        rule = f"length:{minimum}-{maximum}" if minimum else f"max_length:{maximum}"
        rules.fail(field, rule, f"{field} must have {_bounds(minimum, maximum)} characters")


def phone_rules(rules: Rules, field: str, value: str | None) -> None:
    if value is None or not value.strip():
        rules.fail(field, "required", f"{field} is required")
        return
    rules.phone(field, value)


def _invalid_character(character: str) -> bool:
    return unicodedata.category(character) in ("Cc", "Cs")


def _bounds(minimum: int, maximum: int) -> str:
    return f"{minimum} to {maximum}" if minimum else f"at most {maximum}"
