"""Multimedia profiles: how much work of each channel an agent takes at once (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.validation import Rules

MAX_CONCURRENT_PER_CHANNEL = 20


class VoiceMode(StrEnum):
    """Exclusive: no digital work while on a call. Blended: digital work alongside a call."""

    EXCLUSIVE = "EXCLUSIVE"
    BLENDED = "BLENDED"


@dataclass(frozen=True)
class ChannelCapacity:
    channel: Channel
    max_concurrent: int
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
            field = f"channels.{index}"
            top = 1 if capacity.channel is Channel.VOICE else MAX_CONCURRENT_PER_CHANNEL
            rules.int_range(f"{field}.maxConcurrent", capacity.max_concurrent, minimum=0, maximum=top)
            rules.int_range(
                f"{field}.maxOutbound", capacity.max_outbound, minimum=0, maximum=MAX_CONCURRENT_PER_CHANNEL
            )

    def capacity(self, channel: Channel) -> int:
        return next((c.max_concurrent for c in self.channels if c.channel is channel), 0)

    def outbound_capacity(self, channel: Channel) -> int:
        return next((c.max_outbound for c in self.channels if c.channel is channel), 0)
