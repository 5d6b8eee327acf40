"""Filling a message template's ``{{placeholders}}`` (templates themselves are configuration)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.configuration.templates import MessageTemplate
from domain.errors import ValidationFailed, Violation

MAX_VALUE_LENGTH = 1000


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


def render_template(template: MessageTemplate, values: Mapping[str, str]) -> Rendered:
    """The template with every placeholder replaced. A placeholder without a value, or a value
    for a placeholder the template does not have (a typo would otherwise go unnoticed), raises
    ``ValidationFailed`` naming it."""
    wanted = template.placeholders
    violations = [
        Violation(f"placeholders.{name}", "required", f"placeholder {name!r} needs a value")
        for name in wanted
        if name not in values
    ]
    violations += [
        Violation(f"placeholders.{name}", "unknown", f"the template has no placeholder {name!r}")
        for name in values
        if name not in wanted
    ]
    violations += [
        Violation(
            f"placeholders.{name}",
            f"max_length:{MAX_VALUE_LENGTH}",
            f"placeholder {name!r} takes at most {MAX_VALUE_LENGTH} characters",
        )
        for name, value in values.items()
        if len(value) > MAX_VALUE_LENGTH
    ]
    if violations:
        raise ValidationFailed(violations)
    subject = None if template.subject is None else _fill(template.subject, values)
    return Rendered(subject=subject, body=_fill(template.body, values))


def _fill(text: str, values: Mapping[str, str]) -> str:
    # One pass over the text: a value that itself contains "{{x}}" is kept as written, never
    # expanded again.
    parts = text.split("{{")
    out = [parts[0]]
    for part in parts[1:]:
        name, _, rest = part.partition("}}")
        out.append(values[name] + rest)
    return "".join(out)
