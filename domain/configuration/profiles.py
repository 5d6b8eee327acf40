"""Multimedia profiles: how much work of each channel an agent takes at once (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.validation import Rules

MAX_CONCURRENT_PER_CHANNEL = 20
# An agent holds one call at a time; conferences and consults are parts of that one task.
MAX_CONCURRENT_VOICE = 1


class VoiceMode(StrEnum):
    """Exclusive: no digital work while on a call. Blended: digital work alongside a call."""

    EXCLUSIVE = "EXCLUSIVE"
    BLENDED = "BLENDED"


@dataclass(frozen=True)
class ChannelCapacity:
    channel: Channel
    max_concurrent: int
    # Agent-initiated outbound tasks count towards ``max_concurrent`` too, so never exceed it.
    max_outbound: int = 0


@dataclass(frozen=True, kw_only=True)
class MultimediaProfile(ConfigEntity):
    kind = ConfigKind.MULTIMEDIA_PROFILE

    channels: tuple[ChannelCapacity, ...] = ()
    voice_mode: VoiceMode = VoiceMode.BLENDED

    def add_rules(self, rules: Rules) -> None:
        if not self.channels:
            rules.fail("channels", "required", "a profile must allow at least one channel")
        rules.unique_items("channels", (capacity.channel for capacity in self.channels))
        for index, capacity in enumerate(self.channels):
            _capacity_rules(rules, f"channels.{index}", capacity)

    def capacity(self, channel: Channel) -> int:
        return next((c.max_concurrent for c in self.channels if c.channel is channel), 0)

    def outbound_capacity(self, channel: Channel) -> int:
        return next((c.max_outbound for c in self.channels if c.channel is channel), 0)


def _capacity_rules(rules: Rules, field: str, capacity: ChannelCapacity) -> None:
    top = MAX_CONCURRENT_VOICE if capacity.channel is Channel.VOICE else MAX_CONCURRENT_PER_CHANNEL
    rules.int_range(f"{field}.maxConcurrent", capacity.max_concurrent, minimum=0, maximum=top)
    rules.int_range(f"{field}.maxOutbound", capacity.max_outbound, minimum=0, maximum=top)
    if 0 <= capacity.max_concurrent < capacity.max_outbound <= top:
        rules.fail(
            f"{field}.maxOutbound",
            "max:maxConcurrent",
            f"{field}.maxOutbound cannot exceed maxConcurrent: outbound tasks use that capacity",
        )
