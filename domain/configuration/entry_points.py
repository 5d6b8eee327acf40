"""Entry points: the addresses customers reach (or agents send from), and the queue behind each."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from domain.channels import PHONE_ADDRESSED_CHANNELS, Channel, Direction
from domain.configuration.base import ConfigEntity, ConfigKind, Reference
from domain.configuration.queues import Queue
from domain.errors import Violation
from domain.validation import Rules

MAX_FREE_ADDRESS = 200
_PHONE_PUNCTUATION = re.compile(r"[ ,.\-]")
_SPACES = re.compile(r"\s+")


def normalize_phone(number: str) -> str:
    """'+1 555-010.0' and '+15550100' are one number: drop the separators the rules allow."""
    return _PHONE_PUNCTUATION.sub("", number.strip())


def normalize_address(channel: Channel, address: str) -> str:
    if channel in PHONE_ADDRESSED_CHANNELS:
        return normalize_phone(address)
    # Email addresses and chat/social handles: compare ignoring case and spacing.
    return _SPACES.sub(" ", address.strip()).casefold()


@dataclass(frozen=True, kw_only=True)
class EntryPoint(ConfigEntity):
    kind = ConfigKind.ENTRY_POINT

    channel: Channel
    direction: Direction
    address: str
    # Inbound: the queue its flow routes to. Outbound (e.g. the callback entry point): optional.
    queue_id: str | None = None

    def add_rules(self, rules: Rules) -> None:
        if self.channel in PHONE_ADDRESSED_CHANNELS:
            rules.phone("address", self.address)
        elif self.channel is Channel.EMAIL:
            rules.email("address", self.address)
        else:
            rules.text("address", self.address, max_length=MAX_FREE_ADDRESS)
        if self.direction is Direction.INBOUND and self.queue_id is None:
            rules.fail("queueId", "required", "an inbound entry point routes to a queue")

    def references(self) -> list[Reference]:
        if self.queue_id is None:
            return []
        return [Reference("queueId", ConfigKind.QUEUE, self.queue_id)]

    def reference_violations(self, targets: Mapping[Reference, ConfigEntity]) -> list[Violation]:
        # A chat entry point feeding a voice queue would offer chats to agents as calls.
        return [
            Violation(
                ref.field,
                "same_channel",
                f"the queue must serve this entry point's channel {self.channel} "
                f"(it serves {target.channel})",
            )
            for ref, target in targets.items()
            if isinstance(target, Queue) and target.channel is not self.channel
        ]

    def unique_keys(self) -> dict[str, str]:
        # One address per channel and direction: an inbound number may also be dialled out from.
        address = normalize_address(self.channel, self.address)
        return {
            "name": self.name.strip().casefold(),
            "address": f"{self.channel}:{self.direction}:{address}",
        }
