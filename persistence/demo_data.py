"""The demo organization's configuration, keyed by stable ids (tokens printed by ``serve`` name them)."""

from __future__ import annotations

from typing import Any

from domain.channels import Channel, Direction
from domain.configuration.agents import Skill
from domain.configuration.cad import CadType
from domain.configuration.profiles import ChannelCapacity, VoiceMode
from domain.configuration.queues import RoutingStrategy, SkillRequirement
from domain.configuration.teams import TeamType

Fields = dict[str, Any]

TEAMS: dict[str, Fields] = {
    "team-voice": {"name": "Voice Support", "team_type": TeamType.AGENT_BASED},
    "team-digital": {"name": "Digital Care", "team_type": TeamType.AGENT_BASED},
    "team-sales": {"name": "Sales", "team_type": TeamType.AGENT_BASED},
    "team-partner": {"name": "Overflow Partner", "team_type": TeamType.CAPACITY_BASED},
}

PROFILES: dict[str, Fields] = {
    "profile-voice": {
        "name": "Voice only",
        "voice_mode": VoiceMode.EXCLUSIVE,
        "channels": (ChannelCapacity(Channel.VOICE, 1, 1),),
    },
    "profile-blended": {
        "name": "Blended",
        "voice_mode": VoiceMode.BLENDED,
        "channels": (
            ChannelCapacity(Channel.VOICE, 1, 1),
            ChannelCapacity(Channel.CHAT, 3, 0),
            ChannelCapacity(Channel.EMAIL, 2, 2),
            ChannelCapacity(Channel.SMS, 2, 2),
            ChannelCapacity(Channel.SOCIAL, 2, 0),
        ),
    },
    "profile-digital": {
        "name": "Digital",
        "voice_mode": VoiceMode.BLENDED,
        "channels": (
            ChannelCapacity(Channel.CHAT, 3, 0),
            ChannelCapacity(Channel.EMAIL, 2, 2),
            ChannelCapacity(Channel.SMS, 2, 2),
            ChannelCapacity(Channel.SOCIAL, 2, 0),
            ChannelCapacity(Channel.WORK_ITEM, 2, 0),
        ),
    },
}

_AGENT_ROWS = [
    # id suffix, name, teams, profile, skills
    (
        1,
        "Ana Petrova",
        ("team-voice", "team-digital"),
        "profile-blended",
        {"english": 8, "billing": 7, "bulgarian": 9},
    ),
    (
        2,
        "Jonas Weber",
        ("team-voice",),
        "profile-voice",
        {"english": 6, "german": 9, "technical": 8},
    ),
    (
        3,
        "Lucía García",
        ("team-digital",),
        "profile-digital",
        {"english": 7, "spanish": 9, "billing": 5},
    ),
    (
        4,
        "Camille Martin",
        ("team-digital",),
        "profile-digital",
        {"english": 7, "french": 9, "technical": 6},
    ),
    (5, "Ravi Kumar", ("team-voice",), "profile-voice", {"english": 9, "technical": 9}),
    (6, "Sofia Rossi", ("team-sales",), "profile-blended", {"english": 8, "sales": 9}),
    (
        7,
        "Mehmet Yilmaz",
        ("team-voice", "team-sales"),
        "profile-blended",
        {"english": 6, "sales": 6, "billing": 6},
    ),
    (8, "Emma Johansson", ("team-digital",), "profile-digital", {"english": 9, "billing": 8}),
    (
        9,
        "Ivan Dimitrov",
        ("team-voice",),
        "profile-voice",
        {"english": 5, "bulgarian": 9, "billing": 4},
    ),
    (
        10,
        "Chloé Dubois",
        ("team-digital", "team-sales"),
        "profile-blended",
        {"english": 7, "french": 8, "sales": 7},
    ),
    (11, "Mateo López", ("team-sales",), "profile-voice", {"english": 6, "spanish": 8, "sales": 8}),
    (
        12,
        "Hannah Schmidt",
        ("team-digital",),
        "profile-digital",
        {"english": 8, "german": 9, "technical": 7},
    ),
]

AGENTS: dict[str, Fields] = {
    f"demo-agent-{number}": {
        "name": name,
        "email": f"agent{number}@demo.omnidesk.dev",
        "team_ids": teams,
        "profile_id": profile,
        "skills": tuple(Skill(skill, level) for skill, level in skills.items()),
        "extension": f"{1000 + number}",
    }
    for number, name, teams, profile, skills in _AGENT_ROWS
}


QUEUES: dict[str, Fields] = {
    "queue-voice-billing": {
        "name": "Voice Billing",
        "channel": Channel.VOICE,
        "team_ids": ("team-voice",),
        "required_skills": (SkillRequirement("billing", 4),),
        "priority": 3,
    },
    "queue-voice-technical": {
        "name": "Voice Technical",
        "channel": Channel.VOICE,
        "team_ids": ("team-voice",),
        "required_skills": (SkillRequirement("technical", 5),),
        "routing_strategy": RoutingStrategy.BEST_SKILLED,
    },
    "queue-voice-sales": {
        "name": "Voice Sales",
        "channel": Channel.VOICE,
        "team_ids": ("team-sales",),
        "priority": 2,
    },
    "queue-callbacks": {
        "name": "Callbacks",
        "channel": Channel.VOICE,
        "team_ids": ("team-voice", "team-sales"),
    },
    "queue-outbound-voice": {
        "name": "Outbound Voice",
        "channel": Channel.VOICE,
        "direction": Direction.OUTBOUND,
        "team_ids": ("team-voice", "team-sales"),
    },
    "queue-chat": {
        "name": "Chat Support",
        "channel": Channel.CHAT,
        "team_ids": ("team-digital",),
        "offer_timeout_seconds": 45,
    },
    "queue-email": {
        "name": "Email Support",
        "channel": Channel.EMAIL,
        "team_ids": ("team-digital",),
        "offer_timeout_seconds": 120,
    },
    "queue-sms": {"name": "SMS Support", "channel": Channel.SMS, "team_ids": ("team-digital",)},
    "queue-social": {
        "name": "Social Care",
        "channel": Channel.SOCIAL,
        "team_ids": ("team-digital",),
    },
    "queue-partner": {
        "name": "Partner Overflow",
        "channel": Channel.VOICE,
        "team_ids": ("team-partner",),
        "priority": 8,
    },
}

ENTRY_POINTS: dict[str, Fields] = {
    "ep-voice-billing": {
        "name": "Billing hotline",
        "channel": Channel.VOICE,
        "direction": Direction.INBOUND,
        "address": "+15550100",
        "queue_id": "queue-voice-billing",
    },
    "ep-voice-technical": {
        "name": "Technical hotline",
        "channel": Channel.VOICE,
        "direction": Direction.INBOUND,
        "address": "+15550101",
        "queue_id": "queue-voice-technical",
    },
    "ep-voice-sales": {
        "name": "Sales line",
        "channel": Channel.VOICE,
        "direction": Direction.INBOUND,
        "address": "+15550102",
        "queue_id": "queue-voice-sales",
    },
    "ep-voice-partner": {
        "name": "Partner overflow line",
        "channel": Channel.VOICE,
        "direction": Direction.INBOUND,
        "address": "+15550103",
        "queue_id": "queue-partner",
    },
    "ep-chat": {
        "name": "Website chat",
        "channel": Channel.CHAT,
        "direction": Direction.INBOUND,
        "address": "web-chat",
        "queue_id": "queue-chat",
    },
    "ep-email": {
        "name": "Support mailbox",
        "channel": Channel.EMAIL,
        "direction": Direction.INBOUND,
        "address": "support@demo.omnidesk.dev",
        "queue_id": "queue-email",
    },
    "ep-sms": {
        "name": "SMS number",
        "channel": Channel.SMS,
        "direction": Direction.INBOUND,
        "address": "+15550199",
        "queue_id": "queue-sms",
    },
    "ep-social": {
        "name": "Social inbox",
        "channel": Channel.SOCIAL,
        "direction": Direction.INBOUND,
        "address": "social-inbox",
        "queue_id": "queue-social",
    },
    "ep-outbound-voice": {
        "name": "Outbound dial",
        "channel": Channel.VOICE,
        "direction": Direction.OUTBOUND,
        "address": "+15550150",
        "queue_id": "queue-outbound-voice",
    },
    "ep-outbound-sms": {
        "name": "Outbound SMS",
        "channel": Channel.SMS,
        "direction": Direction.OUTBOUND,
        "address": "+15550151",
    },
    "ep-outbound-email": {
        "name": "Outbound email",
        "channel": Channel.EMAIL,
        "direction": Direction.OUTBOUND,
        "address": "hello@demo.omnidesk.dev",
    },
}

DIAL_NUMBERS: dict[str, Fields] = {
    "dn-escalations": {"name": "Escalations desk", "number": "+15550177"},
    "dn-partner": {"name": "Partner BPO", "number": "+15550188"},
}

IDLE_CODES: dict[str, Fields] = {
    f"idle-{slug}": {"name": name}
    for slug, name in [
        ("break", "Break"),
        ("lunch", "Lunch"),
        ("meeting", "Meeting"),
        ("training", "Training"),
        ("coaching", "Coaching"),
    ]
}

WRAP_UP_CODES: dict[str, Fields] = {
    f"wrap-{slug}": {"name": name}
    for slug, name in [
        ("resolved", "Resolved"),
        ("follow-up", "Follow-up required"),
        ("escalated", "Escalated"),
        ("billing", "Billing question"),
        ("technical", "Technical issue"),
        ("sales", "Sales opportunity"),
        ("wrong-number", "Wrong number"),
    ]
}

CHAT_RESPONSES: dict[str, Fields] = {
    "resp-greeting": {
        "name": "Greeting",
        "text": "Hello, thank you for contacting us. How can I help you today?",
        "tags": ("opening",),
    },
    "resp-hold": {
        "name": "One moment",
        "text": "Thank you for your patience, I am checking this for you now.",
        "tags": ("hold",),
    },
    "resp-transfer": {
        "name": "Transfer notice",
        "text": "I am transferring you to a colleague who can help further.",
        "tags": ("transfer",),
    },
    "resp-closing": {
        "name": "Closing",
        "text": "Is there anything else I can help you with? Have a great day!",
        "tags": ("closing",),
    },
}

MESSAGE_TEMPLATES: dict[str, Fields] = {
    "tpl-sms-reminder": {
        "name": "Appointment reminder",
        "channel": Channel.SMS,
        "body": "Hi {{customerName}}, this is a reminder of your appointment on {{appointmentDate}}.",
    },
    "tpl-email-case": {
        "name": "Case update",
        "channel": Channel.EMAIL,
        "subject": "Your case {{caseId}}",
        "body": "Dear {{customerName}},\n\nthere is an update on your case {{caseId}}.\n\nKind regards",
    },
}

CAD_VARIABLES: dict[str, Fields] = {
    "cad-customer-name": {
        "name": "customerName",
        "label": "Customer name",
        "display_order": 1,
        "show_in_popover": True,
        "editable": True,
    },
    "cad-account": {
        "name": "accountNumber",
        "label": "Account number",
        "display_order": 2,
        "show_in_popover": True,
    },
    "cad-tier": {
        "name": "tier",
        "label": "Tier",
        "display_order": 3,
        "show_in_popover": True,
        "editable": True,
        "default_value": "standard",
    },
    "cad-balance": {
        "name": "openBalance",
        "label": "Open balance",
        "var_type": CadType.INTEGER,
        "display_order": 4,
        "show_in_popover": True,
        "editable": True,
    },
    "cad-last-contact": {
        "name": "lastContact",
        "label": "Last contact",
        "var_type": CadType.DATETIME,
        "display_order": 5,
    },
    "cad-verified": {
        "name": "verified",
        "label": "Identity verified",
        "var_type": CadType.BOOLEAN,
        "display_order": 6,
        "editable": True,
        "default_value": "false",
    },
    "cad-ssn": {
        "name": "ssn",
        "label": "Social security number",
        "display_order": 7,
        "secure": True,
    },
    "cad-card": {
        "name": "cardOnFile",
        "label": "Card on file",
        "display_order": 8,
        "secure": True,
        "editable": True,
    },
}
