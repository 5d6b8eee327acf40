"""Every input rule of a scheduled or personal callback (SPEC §9, seed 002), as one pure function
that returns all violations at once, each naming the input field and the rule.

Decisions where the manual leaves room:
- phone: 7 to 15 characters counted as typed, separators and a leading ``+`` included (the field
  "accepts 7 to 15 characters"); digits, spaces, ``-``, ``,`` and ``.`` only (rule ``phone``, the
  same rule every phone number of the API follows).
- name and reason: counted in Unicode characters (code points) after NFC normalization and
  trimming, so "é" typed either way counts once; control characters and lone surrogates are not
  valid characters (rule ``characters``; a reason may hold line breaks and tabs).
- window: a local date, a start and an end time in the customer's zone. Both ends must exist on
  that date: a time skipped by a DST change is refused (``nonexistent_local_time``); a time that
  occurs twice means its first occurrence. The start is at least 30 minutes and at most 31 days
  after now, both bounds included; the end is after the start (``empty_window``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from domain.callbacks.callback import CallbackWindow
from domain.callbacks.text import phone_rules, unicode_text
from domain.channels import TELEPHONY_CHANNELS
from domain.configuration.agents import Agent
from domain.configuration.queues import HIGHEST_PRIORITY, LOWEST_PRIORITY, Queue
from domain.errors import Violation
from domain.tasks.task import TaskKind
from domain.validation import Rules

MIN_LEAD = timedelta(minutes=30)
MAX_LEAD = timedelta(days=31)
NAME_LENGTH = (3, 250)
MAX_REASON = 250
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME = re.compile(r"^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")
_REASON_CONTROLS = frozenset("\n\r\t")


@dataclass(frozen=True, kw_only=True)
class CallbackInput:
    """What the agent entered; every field may be missing (``required`` is a rule like any)."""

    customer_number: str | None
    customer_name: str | None
    date: str | None
    window_start: str | None
    window_end: str | None
    time_zone: str | None
    queue_id: str | None
    reason: str | None = None
    priority: int | None = None
    # Personal callbacks: the agent it is for (the scheduling agent or a teammate).
    assignee_id: str | None = None
    # The task the agent is on while scheduling, if any.
    task_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallbackFacts:
    """What the use case looked up for the rules (None: no such thing, or not active): the queue,
    the scheduling agent, the assignee of a personal callback and the task scheduled from."""

    queue: Queue | None
    scheduler: Agent | None
    assignee: Agent | None = None
    task_kind: TaskKind | None = None

    @property
    def access_agent(self) -> Agent | None:
        """Whoever will take the callback must have access to its queue."""
        return self.assignee or self.scheduler


@dataclass(frozen=True)
class Checked:
    violations: list[Violation]
    window: CallbackWindow | None  # when the window itself was valid


def check_callback(
    entered: CallbackInput, facts: CallbackFacts, now: datetime, *, new_window: bool = True
) -> Checked:
    """``new_window``: the window is being set (scheduling, or an edit that moves it), so its
    start is held to the lead rules from ``now``; an edit of other fields keeps the window it
    was scheduled with, however close its start is by now."""
    rules = Rules()
    phone_rules(rules, "customerNumber", entered.customer_number)
    unicode_text(rules, "customerName", entered.customer_name, length=NAME_LENGTH)
    window = _window(rules, entered, now if new_window else None)
    if entered.assignee_id is not None:
        _assignee(rules, entered.assignee_id, facts)
    _queue(rules, entered.queue_id, facts)
    if entered.task_id is not None:
        _origin_task(rules, entered.task_id, facts.task_kind)
    if entered.reason is not None:
        unicode_text(
            rules, "reason", entered.reason, length=(0, MAX_REASON), allowed=_REASON_CONTROLS
        )
    if entered.priority is not None:
        rules.int_range(
            "priority", entered.priority, minimum=HIGHEST_PRIORITY, maximum=LOWEST_PRIORITY
        )
    return Checked(rules.violations, window)


def check_web_callback(
    *,
    customer_number: str | None,
    customer_name: str | None,
    reason: str | None,
    queue_id: str | None,
    queue: Queue | None,
) -> list[Violation]:
    """A web callback (from a form or a bot): a name and a number, held to the same rules as a
    scheduled callback's, and the queue it waits in."""
    rules = Rules()
    phone_rules(rules, "customerNumber", customer_number)
    unicode_text(rules, "customerName", customer_name, length=NAME_LENGTH)
    if reason is not None:
        unicode_text(rules, "reason", reason, length=(0, MAX_REASON), allowed=_REASON_CONTROLS)
    queue_rules(rules, queue_id, queue)
    return rules.violations


def zone_of(name: str) -> ZoneInfo | None:
    """The IANA zone of that exact name, or None (no file paths, no POSIX TZ strings)."""
    if name not in _zone_names():
        return None
    return ZoneInfo(name)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time; None when that time does not exist on that day (the
    clocks jumped over it). Of a time that occurs twice, the first (``fold=0``)."""
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


# --- the parts --------------------------------------------------------------------------------


def _window(rules: Rules, entered: CallbackInput, now: datetime | None) -> CallbackWindow | None:
    zone = _zone(rules, entered.time_zone)
    day = _date(rules, "date", entered.date)
    start = _time(rules, "windowStart", entered.window_start)
    end = _time(rules, "windowEnd", entered.window_end)
    if zone is None or day is None or start is None or end is None:
        return None
    starts_at = _existing(rules, "windowStart", day, start, zone)
    ends_at = _existing(rules, "windowEnd", day, end, zone)
    if starts_at is None or ends_at is None:
        return None
    valid = True
    if ends_at <= starts_at:
        rules.fail("windowEnd", "empty_window", "the window must end after it starts")
        valid = False
    if now is None:
        pass
    elif starts_at - now < MIN_LEAD:
        rules.fail(
            "windowStart", "min_lead:30m", "the window must start at least 30 minutes from now"
        )
        valid = False
    elif starts_at - now > MAX_LEAD:
        rules.fail("windowStart", "max_lead:31d", "the window must start at most 31 days from now")
        valid = False
    if not valid:
        return None
    return CallbackWindow(
        date=day.isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
        time_zone=zone.key,
        starts_at=starts_at,
        ends_at=ends_at,
    )


def _zone(rules: Rules, name: str | None) -> ZoneInfo | None:
    if name is None or not name.strip():
        rules.fail("timeZone", "required", "timeZone is required")
        return None
    zone = zone_of(name)
    if zone is None:
        rules.fail("timeZone", "time_zone", "timeZone must be an IANA time zone name")
    return zone


def _date(rules: Rules, field: str, value: str | None) -> date | None:
    text = _present(rules, field, value)
    if text is None:
        return None
    try:
        if _DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    rules.fail(field, "format", f"{field} must be a date as YYYY-MM-DD")
    return None


def _time(rules: Rules, field: str, value: str | None) -> time | None:
    text = _present(rules, field, value)
    if text is None:
        return None
    try:
        if _TIME.match(text):
            return time.fromisoformat(text)
    except ValueError:
        pass
    rules.fail(field, "format", f"{field} must be a local time as HH:MM or HH:MM:SS")
    return None


def _present(rules: Rules, field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        rules.fail(field, "required", f"{field} is required")
        return None
    return value


def _existing(rules: Rules, field: str, day: date, at: time, zone: ZoneInfo) -> datetime | None:
    instant = local_instant(day, at, zone)
    if instant is None:
        rules.fail(
            field,
            "nonexistent_local_time",
            f"{field} does not exist on that date in that time zone (a daylight-saving change)",
        )
    return instant


def _queue(rules: Rules, queue_id: str | None, facts: CallbackFacts) -> None:
    queue = queue_rules(rules, queue_id, facts.queue)
    agent = facts.access_agent
    if queue is not None and (agent is None or not set(agent.team_ids) & set(queue.team_ids)):
        rules.fail("queueId", "no_access", "the queue is not served by a team of the agent")


def queue_rules(rules: Rules, queue_id: str | None, queue: Queue | None) -> Queue | None:
    """An active telephony queue (inbound or outbound); the queue when it exists at all."""
    if queue_id is None or not queue_id.strip():
        rules.fail("queueId", "required", "queueId is required")
        return None
    if queue is None:
        rules.fail("queueId", "reference", f"there is no queue {queue_id!r}")
        return None
    if not queue.active:
        rules.fail("queueId", "inactive", "the queue is deactivated")
    if queue.channel not in TELEPHONY_CHANNELS:
        rules.fail("queueId", "not_telephony", f"the queue serves {queue.channel}, not telephony")
    return queue


def _assignee(rules: Rules, assignee_id: str, facts: CallbackFacts) -> None:
    assignee, scheduler = facts.assignee, facts.scheduler
    if assignee is None:
        rules.fail("assigneeId", "reference", f"there is no active agent {assignee_id!r}")
    elif scheduler is None or (
        assignee.id != scheduler.id and not set(assignee.team_ids) & set(scheduler.team_ids)
    ):
        rules.fail(
            "assigneeId", "not_teammate", "a personal callback goes to you or a member of your team"
        )


def _origin_task(rules: Rules, task_id: str, kind: TaskKind | None) -> None:
    if kind is None:
        rules.fail("taskId", "reference", f"you are not on a task {task_id!r}")
    elif kind is TaskKind.CAMPAIGN_PREVIEW:
        rules.fail("taskId", "campaign", "callbacks cannot be scheduled from campaign contacts")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())
