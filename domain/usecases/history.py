"""Reads of a customer's past and of a contact session (SPEC §11, §12), run like any use case so
they see one consistent snapshot of tasks and messages."""

from __future__ import annotations

from dataclasses import dataclass

from domain.channels import Channel
from domain.conversations.addresses import address_key, customer_id_key
from domain.errors import Forbidden, ValidationFailed
from domain.identity import Principal, Role
from domain.messaging.message import Message
from domain.ports import Clock, HistoryCursor, UnitOfWork
from domain.sessions.session import ContactSession
from domain.tasks.task import Task
from domain.validation import Rules

MAX_PAGE = 100
# A task's transcript: its messages (the bot's lines before the hand-over are on the task).
DIGITAL = frozenset(set(Channel) - {Channel.VOICE})


@dataclass(frozen=True)
class GetContactHistory:
    principal: Principal
    customer_id: str | None = None
    address: str | None = None
    channel: Channel | None = None
    first: int = 20
    after: HistoryCursor | None = None


@dataclass(frozen=True)
class HistoryEntry:
    task: Task
    messages: tuple[Message, ...]


@dataclass(frozen=True)
class HistoryPage:
    entries: tuple[HistoryEntry, ...]
    has_next_page: bool


@dataclass(frozen=True)
class GetContactSession:
    principal: Principal
    session_id: str


async def contact_history(cmd: GetContactHistory, uow: UnitOfWork, clock: Clock) -> HistoryPage:
    """Ended tasks of the customer (by id, or by address on a channel's kind of address), newest
    end first, each digital one with its transcript."""
    if not cmd.principal.has_any(Role.AGENT, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("agents, supervisors and admins read contact history")
    keys = _keys(cmd)
    org_id = cmd.principal.org_id
    tasks = list(
        await uow.conversations.history(org_id, keys, cmd.channel, cmd.first + 1, cmd.after)
    )
    page = tasks[: cmd.first]
    digital = [task.task_id for task in page if task.channel in DIGITAL]
    messages = await uow.messages.for_tasks(org_id, digital) if digital else {}
    entries = tuple(HistoryEntry(task, tuple(messages.get(task.task_id, ()))) for task in page)
    return HistoryPage(entries, has_next_page=len(tasks) > cmd.first)


def _keys(cmd: GetContactHistory) -> list[str]:
    rules = Rules()
    if (cmd.customer_id is None) == (cmd.address is None):
        rules.fail("customerId", "one_of:customerId,address", "give a customerId or an address")
    rules.int_range("first", cmd.first, minimum=1, maximum=MAX_PAGE)
    if cmd.address is not None and cmd.channel is None:
        rules.fail("channel", "required", "an address is looked up on a channel")
    rules.check()
    if cmd.customer_id is not None:
        return [customer_id_key(cmd.customer_id)]
    assert cmd.address is not None
    assert cmd.channel is not None
    if not cmd.address.strip():
        raise ValidationFailed.single("address", "required", "address must not be empty")
    return [address_key(cmd.channel, cmd.address)]


async def contact_session(
    cmd: GetContactSession, uow: UnitOfWork, clock: Clock
) -> ContactSession | None:
    """The session's interactions; None when there is none or (an agent) none of them was yours."""
    tasks = await uow.conversations.session_tasks(cmd.principal.org_id, cmd.session_id)
    if not tasks:
        return None
    if not cmd.principal.has_any(Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION) and not any(
        p.agent_id == cmd.principal.subject for task in tasks for p in task.participants
    ):
        return None
    return ContactSession.of(cmd.session_id, tasks)
