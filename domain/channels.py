"""Media channels and directions shared by configuration, tasks and routing."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    VOICE = "VOICE"
    CHAT = "CHAT"
    EMAIL = "EMAIL"
    SMS = "SMS"
    SOCIAL = "SOCIAL"
    WORK_ITEM = "WORK_ITEM"
    VOICEMAIL = "VOICEMAIL"


class Direction(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


TELEPHONY_CHANNELS = frozenset({Channel.VOICE})
PHONE_ADDRESSED_CHANNELS = frozenset({Channel.VOICE, Channel.SMS})
