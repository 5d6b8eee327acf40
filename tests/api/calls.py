"""Voice call control through the public API (issue #4): operation strings for every call
mutation, the task's call fields, the task timeline subscription, and small helpers that bring a
call to a given point. Shared by the call-control, consult, conference and transfer tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.api.center import (
    ACCEPT_OFFER,
    OFFER_EVENTS,
    OUTCOME,
    Center,
    Line,
    NextItem,
    next_matching,
    subscription,
)
from tests.api.test_policies import update as update_policies
from tests.api.test_policies import wrap_up_code as create_wrap_up_code

TASK_FIELDS = """id channel kind status statusSince queueId entryPointId agentId offerId version
    connectedAt endedAt callEndedAt conferenceSince parentTaskId
    participants { id role agentId name address joinedAt leftAt held wrapUpDue }
    consult { destination { kind id name address } requestedAt requestTaskId participantId
              connectedAt }
    recording { state pauseCount pausedAt resumesAt }
    wrapUps { agentId wrapUpCodeIds submittedAt cause { kind id } }
    durations { ringSeconds talkSeconds holdSeconds consultSeconds wrapUpSeconds handleSeconds }
    requester { agentId agentName dialNumber teamName }"""

EVENT_FIELDS = """
    __typename
    ... on Event { seq eventId occurredAt cause { kind id } }
    ... on TaskLifecycleEvent { lifecycle: change status version queueId agentId offerId because }
    ... on CallEvent {
      change status version participantId role agentId
      destination { kind id name address } wrapUpCodeIds deadline
    }
"""
TASK_EVENTS = f"""
subscription($taskId: ID!, $after: Int) {{
  taskEvents(taskId: $taskId, after: $after) {{
    {EVENT_FIELDS}
    ... on ResyncRequired {{ headSeq }}
  }}
}}"""
TASK_HISTORY = f"""
query($id: ID!) {{ task(id: $id) {{ id history {{ {EVENT_FIELDS} }} }} }}"""
CALL_TASK = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
MY_CALL_TASKS = f"{{ myTasks {{ channel tasks {{ {TASK_FIELDS} }} }} }}"


def _mutation(name: str, input_type: str) -> str:
    noun = name[0].upper() + name[1:]
    return f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ {OUTCOME} ... on {noun}Success {{ task {{ {TASK_FIELDS} }} }} }}
}}"""


HOLD_CALL = _mutation("holdCall", "CallPartyInput")
RESUME_CALL = _mutation("resumeCall", "CallPartyInput")
CONSULT_CALL = _mutation("consultCall", "ConsultCallInput")
END_CONSULT = _mutation("endConsult", "TaskInput")
EXIT_CONSULT = _mutation("exitConsult", "TaskInput")
START_CONFERENCE = _mutation("startConference", "TaskInput")
EXIT_CONFERENCE = _mutation("exitConference", "TaskInput")
TRANSFER_CALL = _mutation("transferCall", "TransferCallInput")
PAUSE_RECORDING = _mutation("pauseRecording", "TaskInput")
RESUME_RECORDING = _mutation("resumeRecording", "TaskInput")
END_CALL = _mutation("endCall", "TaskInput")
SUBMIT_WRAP_UP = _mutation("submitWrapUp", "SubmitWrapUpInput")
REPORT_CUSTOMER_LEFT = _mutation("reportCustomerLeft", "TaskInput")
MONITOR_CALL = _mutation("monitorCall", "TaskInput")
STOP_MONITORING = _mutation("stopMonitoring", "TaskInput")


@dataclass
class AnsweredCall:
    """A voice call an agent has accepted: the task as acceptOffer returned it."""

    task: dict[str, Any]
    agent_id: str
    bearer: str
    offer_id: str

    @property
    def task_id(self) -> str:
        return str(self.task["id"])


async def answered_call(
    center: Center,
    line: Line,
    bearer: str,
    *,
    agent_id: str | None = None,
    **report_fields: Any,
) -> AnsweredCall:
    """Report a voice contact on ``line``, await its offer on the agent's ``offers``
    subscription and accept it; the agent must be AVAILABLE with free voice capacity."""
    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        reported = await center.report(line, **report_fields)
        offer = await _offer_of(next_offer, reported["id"])
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=offer["id"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    task = await center.query(bearer, CALL_TASK, id=reported["id"])
    assert task is not None, reported
    assert task["status"] == "CONNECTED", task
    return AnsweredCall(task, agent_id or offer["agentId"], bearer, offer["id"])


async def _offer_of(next_offer: Any, task_id: str) -> dict[str, Any]:
    for _ in range(100):
        item = await next_offer()
        if item["__typename"] == "OfferMade" and item["taskId"] == task_id:
            return dict(item["offer"])
    raise AssertionError(f"no offer of {task_id}")


async def voice_agent(center: Center, line: Line, voice: int = 1) -> tuple[str, str]:
    """A logged-in AVAILABLE agent of the line's team (id, bearer)."""
    return await center.logged_in_agent(line.team_id, await center.profile(voice=voice))


async def wrap_up_code(center: Center, name: str = "Resolved") -> str:
    """An active wrap-up code of the center's organization."""
    return str(await create_wrap_up_code(center.server, center.org_id, name))


def participant(task: dict[str, Any], role: str, agent_id: str | None = None) -> dict[str, Any]:
    """The one participant of ``role`` (and ``agent_id`` when given) on ``task``."""
    found = [
        p
        for p in task["participants"]
        if p["role"] == role and (agent_id is None or p["agentId"] == agent_id)
    ]
    assert len(found) == 1, task["participants"]
    return dict(found[0])


def roles(task: dict[str, Any], *, present: bool = True) -> list[str]:
    """Roles of the participants, in joining order (only those still on the call by default)."""
    return [p["role"] for p in task["participants"] if not present or p["leftAt"] is None]


async def moved(center: Center, bearer: str, operation: str, **fields: Any) -> dict[str, Any]:
    """The task a call mutation returned; fails unless it succeeded."""
    outcome = await center.call(bearer, operation, **fields)
    assert outcome["__typename"].endswith("Success"), outcome
    return dict(outcome["task"])


async def call_task(center: Center, task_id: str) -> dict[str, Any]:
    """The task's call fields, as a supervisor reads them."""
    task = await center.query(center.supervisor, CALL_TASK, id=task_id)
    assert task is not None, task_id
    return dict(task)


async def history(center: Center, task_id: str) -> list[dict[str, Any]]:
    task = await center.query(center.supervisor, TASK_HISTORY, id=task_id)
    return list(task["history"])


def change_of(event: dict[str, Any]) -> str:
    """A timeline entry's change: ``QUEUED``... for the lifecycle, ``HELD``... for the call."""
    return str(event.get("change") or event.get("lifecycle") or event["__typename"])


def task_events(center: Center, bearer: str, task_id: str, after: int | None = 0) -> Any:
    """The ``taskEvents`` subscription of one task (from the start of its stream by default)."""
    return subscription(center.server, bearer, TASK_EVENTS, taskId=task_id, after=after)


async def one_call(center: Center) -> AnsweredCall:
    """A call answered by the only agent of a fresh line."""
    line = await center.line("VOICE")
    _, bearer = await voice_agent(center, line)
    return await answered_call(center, line, bearer)


async def set_policies(center: Center, **changes: Any) -> None:
    changed = await update_policies(center.server, center.org_id, **changes)
    assert changed["__typename"] == "UpdatePoliciesSuccess", changed


def refusal(outcome: dict[str, Any]) -> tuple[str, str]:
    """A result's type and error code (empty for a success)."""
    return outcome["__typename"], outcome.get("code", "")


async def event_of(next_event: NextItem, change: str) -> dict[str, Any]:
    """The next timeline entry of ``change``, skipping others."""
    return await next_matching(next_event, lambda e: change_of(e) == change)
