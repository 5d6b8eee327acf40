"""Call control of the primary agent (hold, resume, end, recording), the customer hanging up as
the telephony connector reports it, and a supervisor's silent monitoring (SPEC §5, §6, §12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import Forbidden
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.tasks import call
from domain.tasks.call import CallParty
from domain.tasks.participants import CallAction
from domain.tasks.recording import RecordingState
from domain.tasks.task import Task
from domain.timers import Timer, TimerKind, timer_id
from domain.usecases.call_access import agent_access, policies_of, save_call, task_of
from domain.usecases.chat import customer_left_notice
from domain.usecases.consults import cancel_consult_request

RECORDING_TIMER = Actor.system("recording-pause")


@dataclass(frozen=True)
class HoldCall:
    principal: Principal
    task_id: str
    party: CallParty = CallParty.CUSTOMER


@dataclass(frozen=True)
class ResumeCall:
    principal: Principal
    task_id: str
    party: CallParty = CallParty.CUSTOMER


@dataclass(frozen=True)
class EndCall:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class PauseRecording:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class ResumeRecording:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class ReportCustomerLeft:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class MonitorCall:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class StopMonitoring:
    principal: Principal
    task_id: str


async def hold_call(cmd: HoldCall, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.HOLD)
    now = clock.now()
    after = call.hold(access.task, cmd.party, now)
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def resume_call(cmd: ResumeCall, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.RESUME)
    now = clock.now()
    after = call.resume(access.task, cmd.party, now)
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def end_call(cmd: EndCall, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.END)
    now = clock.now()
    after = call.end_call(access.task, now)
    await _withdraw_consult_request(uow, access.task, after, access.actor, now)
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def report_customer_left(cmd: ReportCustomerLeft, uow: UnitOfWork, clock: Clock) -> Task:
    """The customer hung up: with agents remaining the call goes on in ``POST_CALL``."""
    if not cmd.principal.has(Role.INTEGRATION):
        raise Forbidden("only a connector (integration role) reports the customer's side")
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    now = clock.now()
    customer = Actor(ActorKind.CUSTOMER, task.customer.customer_id or task.task_id)
    after = call.customer_left(task, now)
    await _withdraw_consult_request(uow, task, after, customer, now)
    await customer_left_notice(uow, task, now)  # a chat says so in the conversation (seed 004)
    return await save_call(uow, task, after, actor=customer, now=now)


async def pause_recording(cmd: PauseRecording, uow: UnitOfWork, clock: Clock) -> Task:
    """Paused for sensitive information; resumes by itself after the configured pause."""
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.PAUSE_RECORDING)
    now = clock.now()
    policies = await policies_of(uow, cmd.principal.org_id)
    after = call.recording_paused(access.task, now, policies.recording_pause_seconds)
    assert after.recording.resumes_at is not None
    await uow.timers.schedule(
        Timer.at(
            after.recording.resumes_at,
            org_id=after.org_id,
            kind=TimerKind.RECORDING_RESUME,
            target_id=after.task_id,
            expected_version=after.recording.pause_count,
        )
    )
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def resume_recording(cmd: ResumeRecording, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.RESUME_RECORDING)
    now = clock.now()
    after = call.recording_resumed(access.task, now)
    await uow.timers.cancel(_resume_timer_id(access.task))
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def on_recording_resume(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
    """The pause is over: the recording resumes, unless it was resumed or stopped meanwhile."""
    task = await uow.tasks.get(timer.org_id, timer.target_id)
    if (
        task is None
        or task.recording.state is not RecordingState.PAUSED
        or task.recording.pause_count != timer.expected_version
    ):
        return
    now = clock.now()
    after = task.changed(recording=task.recording.resumed())
    await save_call(uow, task, after, actor=RECORDING_TIMER, now=now)


async def monitor_call(cmd: MonitorCall, uow: UnitOfWork, clock: Clock) -> Task:
    supervisor = _supervisor(cmd.principal)
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    now = clock.now()
    after = call.monitoring_started(task, cmd.principal.subject, None, now)
    return await save_call(uow, task, after, actor=supervisor, now=now)


async def stop_monitoring(cmd: StopMonitoring, uow: UnitOfWork, clock: Clock) -> Task:
    supervisor = _supervisor(cmd.principal)
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    now = clock.now()
    after = call.monitoring_stopped(task, cmd.principal.subject, now)
    return await save_call(uow, task, after, actor=supervisor, now=now)


def _supervisor(principal: Principal) -> Actor:
    if not principal.has(Role.SUPERVISOR):
        raise Forbidden("only supervisors monitor calls")
    return Actor(ActorKind.SUPERVISOR, principal.subject)


def _resume_timer_id(task: Task) -> str:
    return timer_id(TimerKind.RECORDING_RESUME, task.task_id, task.recording.pause_count)


async def _withdraw_consult_request(
    uow: UnitOfWork, before: Task, after: Task, actor: Actor, now: datetime
) -> None:
    """A consult still ringing when the call ends (or the customer leaves) is called off."""
    if before.consult is not None and after.consult is None:
        await cancel_consult_request(uow, before, actor, now)
