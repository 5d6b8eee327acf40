"""Customer addresses: how an outbound ``to`` must look, and the keys that find a customer again.

A customer is found by the id the contact center knows them by and by the address they write or
call from. Addresses are compared normalized (``normalize_address``), so ``+1 555-0100`` and
``+15550100`` are one customer, and so are ``Ada@Example.com`` and ``ada@example.com``.
"""

from __future__ import annotations

from domain.channels import PHONE_ADDRESSED_CHANNELS, Channel
from domain.configuration.entry_points import normalize_address
from domain.tasks.task import Task
from domain.validation import Rules

CONVERSATION_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL})


def address_kind(channel: Channel) -> str:
    """Addresses of one kind are comparable across channels: a caller's number is the number an
    SMS goes to."""
    if channel in PHONE_ADDRESSED_CHANNELS:
        return "phone"
    if channel is Channel.EMAIL:
        return "email"
    return f"handle:{channel.value}"


def address_key(channel: Channel, address: str) -> str:
    return f"{address_kind(channel)}:{normalize_address(channel, address)}"


def customer_id_key(customer_id: str) -> str:
    return f"id:{customer_id}"


def customer_keys(task: Task) -> list[str]:
    """What a task is found by in a customer's history: their id and their address (a call's
    caller number when the connector gave no address)."""
    keys = []
    if task.customer.customer_id:
        keys.append(customer_id_key(task.customer.customer_id))
    address = task.customer.address or (task.ani if task.channel is Channel.VOICE else None)
    if address:
        keys.append(address_key(task.channel, address))
    return keys


def conversation_key(channel: Channel, entry_point_address: str, customer_address: str) -> str:
    """One active conversation per (customer address, entry point). The entry point counts by its
    address, so a reply to an outbound SMS's number finds the conversation whichever entry point
    (the outbound one that sent, the inbound one of the same number) carries it."""
    return ":".join(
        (
            channel.value,
            normalize_address(channel, entry_point_address),
            normalize_address(channel, customer_address),
        )
    )


def check_customer_address(field: str, channel: Channel, address: str) -> None:
    """An SMS goes to a phone number with its country code (``+`` first); an email to an email
    address. Raises ``ValidationFailed`` naming ``field``."""
    rules = Rules()
    if channel is Channel.EMAIL:
        rules.email(field, address.strip())
    elif channel is Channel.SMS:
        rules.phone(field, address.strip())
        if not rules.violations and not address.strip().startswith("+"):
            rules.fail(field, "country_code", f"{field} must start with + and the country code")
    else:
        rules.fail(field, "conversation_channel", "conversations are SMS or EMAIL")
    rules.check()
