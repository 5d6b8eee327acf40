"""A clock tests move by hand, so that time-dependent rules are tested at exact instants ("29:59 vs
30:00", "31 days and a second") and timers fire when the test says, without sleeping.

Only with ``OMNIDESK_TEST_CLOCK_START`` (refused in production): the server's clock is frozen at
that instant and ``POST /test/clock`` (an admin token) moves it, with ``{"advanceSeconds": n}``
or ``{"set": "<ISO instant>"}``; then it fires every timer now due before answering
``{"now": ..., "fired": n}`` and wakes the timer scheduler. A restarted server keeps the instant
only if it is given again in its environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.auth import AuthenticationFailed, bearer_token
from api.bootstrap import Services
from api.settings import Settings, SettingsError
from domain.identity import Role


class ControllableClock:
    def __init__(self, start: datetime) -> None:
        self._now = _instant(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _instant(instant)

    def advance(self, seconds: float) -> None:
        self._now = _instant(self._now + timedelta(seconds=seconds))


def _instant(value: datetime) -> datetime:
    """Aware UTC, whole milliseconds (what MongoDB keeps)."""
    if value.tzinfo is None:
        raise ValueError("the test clock needs an instant with a UTC offset")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def clock_route(clock: ControllableClock, services: Callable[[], Services | None]) -> Route:
    async def move(request: Request) -> JSONResponse:
        running = services()
        if running is None:
            return JSONResponse({"error": "starting"}, status_code=503)
        try:
            raw = bearer_token(request.headers.get("authorization"))
            if raw is None:
                raise AuthenticationFailed("authentication required")
            principal, _ = await running.verifier.verify(raw)
        except AuthenticationFailed as error:
            return JSONResponse({"error": str(error)}, status_code=401)
        if not principal.has(Role.ADMIN):
            return JSONResponse({"error": "an admin token is required"}, status_code=403)
        try:
            _apply(clock, json.loads(await request.body()))
        except (ValueError, TypeError, KeyError) as error:
            return JSONResponse({"error": f"bad request: {error}"}, status_code=400)
        fired = 0
        if running.timers is not None:
            fired = await running.timers.run_due()
            running.timers.wake()
        return JSONResponse({"now": clock.now().isoformat(), "fired": fired})

    return Route("/test/clock", move, methods=["POST"])


def _apply(clock: ControllableClock, body: dict[str, object]) -> None:
    if "set" in body:
        clock.set(datetime.fromisoformat(str(body["set"])))
    else:
        seconds = body["advanceSeconds"]
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("advanceSeconds must be a number, not negative")
        clock.advance(seconds)


def clock_for(settings: Settings) -> ControllableClock | None:
    if settings.test_clock_start is None:
        return None
    if not settings.is_development:
        raise SettingsError("OMNIDESK_TEST_CLOCK_START is for tests; it is refused in production")
    return ControllableClock(settings.test_clock_start)
