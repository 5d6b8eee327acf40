"""A message on a digital task (SPEC §10): what the customer, the agent, the bot or the system
said, in order (``seq`` within the task), after PCI screening — a stored message never holds a
clear card number.

Attachments are metadata plus a URL: the connector (or the desktop's upload service) hosts the
content and we keep a reference, so files never pass through this API or MongoDB (GridFS would
make every message a multi-megabyte write inside a transaction). What we cannot read we cannot
leak: PCI screening covers the attachment's name and URL; its content is the host's concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels import Channel


class Sender(StrEnum):
    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    BOT = "BOT"
    SYSTEM = "SYSTEM"


class DeliveryState(StrEnum):
    """Where an outgoing message stands with the connector. ``NONE``: nothing to deliver (the
    customer's own lines, notices only the agents see)."""

    NONE = "NONE"
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class Notice(StrEnum):
    """What a SYSTEM line says; the desktop and the chat widget word it in their language."""

    AGENT_JOINED = "AGENT_JOINED"
    AGENT_LEFT = "AGENT_LEFT"
    CUSTOMER_LEFT = "CUSTOMER_LEFT"
    CONFERENCE_ENDED = "CONFERENCE_ENDED"
    TRANSFERRED = "TRANSFERRED"
    MESSAGE_DROPPED = "MESSAGE_DROPPED"
    TRANSFER_NOT_ACCEPTED = "TRANSFER_NOT_ACCEPTED"


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """Metadata of a file; the content stays with its host, reached through ``url``."""

    name: str
    media_type: str
    size: int
    url: str | None = None
    # An email's inline image (shown in the body) rather than a file to download.
    inline: bool = False


@dataclass(frozen=True, kw_only=True)
class MessageDraft:
    """What an agent or a customer sends, before PCI screening and storage."""

    text: str
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # An email body (inline images as data: URIs).
    html: str | None = None


@dataclass(frozen=True, kw_only=True)
class Message:
    message_id: str
    org_id: str
    task_id: str
    channel: Channel
    sender: Sender
    agent_id: str | None
    text: str
    subject: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    sent_at: datetime
    # PCI screening masked something in it, or withheld an attachment.
    redacted: bool
    delivery: DeliveryState
    delivery_error: str | None = None
    seq: int
    # The predefined response the agent started from (kept for reporting; the text may differ).
    response_id: str | None = None
    # A SYSTEM line: what it tells.
    notice: Notice | None = None
    # Attachments PCI screening kept from being sent.
    withheld_attachments: int = 0
    delivery_updated_at: datetime | None = None

    @property
    def outgoing(self) -> bool:
        return self.delivery is not DeliveryState.NONE
