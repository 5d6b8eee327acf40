"""Agents: who they are, which teams they may log in to, their skills and their profile."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.configuration.base import ConfigEntity, ConfigKind, Reference
from domain.validation import Rules

MAX_SKILL_LEVEL = 10
MAX_SKILLS = 50
MAX_SKILL_NAME = 50
MAX_TEAMS = 50
# ASCII digits only: str.isdigit() would also let through '²' or Arabic-Indic digits.
_EXTENSION = re.compile(r"^\+?[0-9]{1,15}$")


@dataclass(frozen=True)
class Skill:
    name: str
    level: int


@dataclass(frozen=True, kw_only=True)
class Agent(ConfigEntity):
    kind = ConfigKind.AGENT

    email: str
    team_ids: tuple[str, ...]
    profile_id: str
    skills: tuple[Skill, ...] = ()
    # The extension or dial number offered by default at log-in (SPEC §2: "optionally a dial
    # number").
    extension: str | None = None

    def add_rules(self, rules: Rules) -> None:
        rules.email("email", self.email)
        if not self.team_ids:
            rules.fail("teamIds", "required", "an agent belongs to at least one team")
        elif len(self.team_ids) > MAX_TEAMS:
            rules.fail("teamIds", f"max_items:{MAX_TEAMS}", f"at most {MAX_TEAMS} teams")
        rules.unique_items("teamIds", self.team_ids)
        skill_rules(rules, "skills", [(skill.name, skill.level) for skill in self.skills], "level")
        if self.extension is not None and not _EXTENSION.match(self.extension):
            rules.fail(
                "extension", "extension", "extension must be 1 to 15 digits, maybe after '+'"
            )

    def references(self) -> list[Reference]:
        refs = [Reference("teamIds", ConfigKind.TEAM, team_id) for team_id in self.team_ids]
        refs.append(Reference("profileId", ConfigKind.MULTIMEDIA_PROFILE, self.profile_id))
        return refs

    def unique_keys(self) -> dict[str, str]:
        # Agents are people: two may share a name, never an email (it is how they sign in).
        return {"email": self.email.strip().casefold()}

    def skill_level(self, name: str) -> int:
        wanted = name.casefold()
        return next((skill.level for skill in self.skills if skill.name.casefold() == wanted), 0)


def skill_rules(rules: Rules, field: str, skills: list[tuple[str, int]], level_field: str) -> None:
    """Skill lists of agents and queues: bounded, unique names (ignoring case), levels 1 to 10."""
    if len(skills) > MAX_SKILLS:
        rules.fail(field, f"max_items:{MAX_SKILLS}", f"at most {MAX_SKILLS} skills")
    rules.unique_items(field, (name.strip() for name, _ in skills))
    for index, (name, level) in enumerate(skills):
        rules.text(f"{field}.{index}.name", name, max_length=MAX_SKILL_NAME)
        rules.int_range(f"{field}.{index}.{level_field}", level, minimum=1, maximum=MAX_SKILL_LEVEL)
