"""Predefined chat responses (SPEC §10): text an agent searches, edits and sends."""

from __future__ import annotations

from dataclasses import dataclass

from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.validation import Rules

TEXT_MAX_LENGTH = 2000
MAX_TAGS = 10
TAG_MAX_LENGTH = 30
# Channels where an agent types text to a customer; voice and work items have no composer.
MESSAGING_CHANNELS = frozenset({Channel.CHAT, Channel.EMAIL, Channel.SMS, Channel.SOCIAL})


@dataclass(frozen=True, kw_only=True)
class ChatResponse(ConfigEntity):
    """``name`` is the title the desktop lists. An empty ``channels`` means every messaging
    channel; ``tags`` give the desktop's search something beyond the title."""

    kind = ConfigKind.CHAT_RESPONSE

    text: str
    channels: tuple[Channel, ...] = ()
    tags: tuple[str, ...] = ()

    def add_rules(self, rules: Rules) -> None:
        rules.text("text", self.text, max_length=TEXT_MAX_LENGTH)
        rules.unique_items("channels", self.channels)
        for index, channel in enumerate(self.channels):
            if channel not in MESSAGING_CHANNELS:
                rules.fail(
                    f"channels.{index}",
                    "messaging_channel",
                    f"{channel} has no message composer; use CHAT, EMAIL, SMS or SOCIAL",
                )
        if len(self.tags) > MAX_TAGS:
            rules.fail("tags", f"max_items:{MAX_TAGS}", f"at most {MAX_TAGS} tags")
        rules.unique_items("tags", (tag.strip() for tag in self.tags))
        for index, tag in enumerate(self.tags):
            rules.text(f"tags.{index}", tag, max_length=TAG_MAX_LENGTH)

    def offered_on(self, channel: Channel) -> bool:
        return channel in (self.channels or MESSAGING_CHANNELS)
