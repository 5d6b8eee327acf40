"""Contact history (SPEC §12): a customer's ended tasks, newest first, paged, each digital one with
its transcript."""

import base64
import binascii
import json
from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.permissions import IsAuthenticated
from api.graphql.relay import Connection, connection
from api.graphql.tasks import Customer
from domain.channels import PHONE_ADDRESSED_CHANNELS, Channel, Direction
from domain.errors import ValidationFailed
from domain.ports import HistoryCursor
from domain.sessions.session import disposition
from domain.tasks.task import TaskStatus
from domain.usecases import history


@strawberry.type(
    description="A line of the transcript: the bot's before the hand-over, then the "
    "messages (customer, agent, system) in order."
)
class TranscriptEntry:
    sender: str
    text: str
    subject: str | None
    sent_at: datetime
    agent_id: strawberry.ID | None


@strawberry.type(description="One ended interaction of the customer.")
class HistoryEntry:
    task_id: strawberry.ID
    channel: Channel
    direction: Direction
    status: TaskStatus
    created_at: datetime
    connected_at: datetime | None
    ended_at: datetime | None
    agent_id: strawberry.ID | None = strawberry.field(description="The agent who handled it last.")
    queue_id: strawberry.ID
    entry_point_id: strawberry.ID
    subject: str | None
    session_id: strawberry.ID
    wrap_up_code_ids: list[strawberry.ID]
    customer: Customer
    transcript: list[TranscriptEntry] = strawberry.field(
        description="Digital interactions only (empty for calls)."
    )

    @classmethod
    def from_domain(cls, entry: history.HistoryEntry) -> "HistoryEntry":
        task = entry.task
        bot = [
            TranscriptEntry(
                sender=line.sender,
                text=line.text,
                subject=None,
                sent_at=line.sent_at,
                agent_id=None,
            )
            for line in task.transcript
        ]
        said = [
            TranscriptEntry(
                sender=message.sender.value,
                text=message.text,
                subject=message.subject,
                sent_at=message.sent_at,
                agent_id=None if message.agent_id is None else strawberry.ID(message.agent_id),
            )
            for message in entry.messages
        ]
        handled_by = [p.agent_id for p in task.participants if p.is_agent and p.agent_id]
        return cls(
            task_id=strawberry.ID(task.task_id),
            channel=task.channel,
            direction=task.direction,
            status=task.status,
            created_at=task.created_at,
            connected_at=task.connected_at,
            ended_at=task.ended_at,
            agent_id=strawberry.ID(handled_by[-1]) if handled_by else None,
            queue_id=strawberry.ID(task.queue_id),
            entry_point_id=strawberry.ID(task.entry_point_id),
            subject=task.subject,
            session_id=strawberry.ID(task.session),
            wrap_up_code_ids=[strawberry.ID(code) for code in disposition(task)],
            customer=Customer(
                name=task.customer.name,
                customer_id=task.customer.customer_id,
                number_address=task.channel in PHONE_ADDRESSED_CHANNELS,
                raw_address=task.customer.address or task.ani,
            ),
            transcript=bot + said,
        )


def _cursor(task_id: str, ended_at: datetime) -> str:
    raw = json.dumps([ended_at.isoformat(), task_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _after(cursor: str | None) -> HistoryCursor | None:
    if cursor is None:
        return None
    try:
        ended_at, task_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return HistoryCursor(datetime.fromisoformat(ended_at), str(task_id))
    except (ValueError, TypeError, binascii.Error) as error:
        raise ValidationFailed.single("after", "cursor", "not a cursor of this list") from error


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A customer's ended tasks (closed or abandoned), newest first: by "
        "`customerId`, or by `address` together with the `channel` it is an address on; "
        "`channel` also filters the list. Agents, supervisors and admins.",
    )
    async def contact_history(
        self,
        info: Info,
        customer_id: strawberry.ID | None = None,
        address: str | None = None,
        channel: Channel | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[HistoryEntry]:
        principal = info.context.require_principal()
        command = history.GetContactHistory(
            principal=principal,
            customer_id=None if customer_id is None else str(customer_id),
            address=address,
            channel=channel,
            first=first,
            after=_after(after),
        )
        page = await info.context.services.runner.run(history.contact_history, command)
        cursors = [
            _cursor(e.task.task_id, e.task.ended_at) for e in page.entries if e.task.ended_at
        ]
        return connection(
            [HistoryEntry.from_domain(entry) for entry in page.entries],
            cursors,
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
        )
