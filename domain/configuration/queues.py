"""Queues: where tasks wait, which teams serve them and how an agent is chosen (SPEC §1, §3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.channels import Channel, Direction
from domain.configuration.agents import MAX_TEAMS, skill_rules
from domain.configuration.base import ConfigEntity, ConfigKind, Reference
from domain.validation import Rules

DEFAULT_OFFER_TIMEOUT_SECONDS = 30
MIN_OFFER_TIMEOUT_SECONDS = 5
MAX_OFFER_TIMEOUT_SECONDS = 600
# Priority 1 is served first, 10 last (as in Webex Contact Center); 5 leaves room both ways.
DEFAULT_PRIORITY = 5
HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 10


class RoutingStrategy(StrEnum):
    """How routing picks among eligible agents (all of them already hold every required skill).

    LONGEST_AVAILABLE: the agent available the longest (SPEC §3 default).
    BEST_SKILLED: the highest sum of levels in the queue's required skills; ties go to the
    agent available the longest.
    """

    LONGEST_AVAILABLE = "LONGEST_AVAILABLE"
    BEST_SKILLED = "BEST_SKILLED"


@dataclass(frozen=True)
class SkillRequirement:
    """An agent is eligible only with this skill at ``min_level`` or above."""

    name: str
    min_level: int = 1


@dataclass(frozen=True, kw_only=True)
class Queue(ConfigEntity):
    kind = ConfigKind.QUEUE

    channel: Channel
    team_ids: tuple[str, ...]
    direction: Direction = Direction.INBOUND
    routing_strategy: RoutingStrategy = RoutingStrategy.LONGEST_AVAILABLE
    required_skills: tuple[SkillRequirement, ...] = ()
    offer_timeout_seconds: int = DEFAULT_OFFER_TIMEOUT_SECONDS
    priority: int = DEFAULT_PRIORITY

    def add_rules(self, rules: Rules) -> None:
        if not self.team_ids:
            rules.fail("teamIds", "required", "a queue is served by at least one team")
        elif len(self.team_ids) > MAX_TEAMS:
            rules.fail("teamIds", f"max_items:{MAX_TEAMS}", f"at most {MAX_TEAMS} teams")
        rules.unique_items("teamIds", self.team_ids)
        requirements = [(skill.name, skill.min_level) for skill in self.required_skills]
        skill_rules(rules, "requiredSkills", requirements, "minLevel")
        rules.int_range(
            "offerTimeoutSeconds",
            self.offer_timeout_seconds,
            minimum=MIN_OFFER_TIMEOUT_SECONDS,
            maximum=MAX_OFFER_TIMEOUT_SECONDS,
        )
        rules.int_range(
            "priority", self.priority, minimum=HIGHEST_PRIORITY, maximum=LOWEST_PRIORITY
        )

    def references(self) -> list[Reference]:
        return [Reference("teamIds", ConfigKind.TEAM, team_id) for team_id in self.team_ids]
