"""Leases on due timers: which instance fires a timer, and until when it may.

A timer is claimed by setting ``lease_until`` and ``owner``; another instance claims it only once
the lease has run out. Claims are batches: the earliest due timer of an organization not already
being fired here, then the other due timers of its organization and kind (the scheduler fires a
batch in one transaction).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import PyMongoError

from persistence.timers import Row, timer_collection

BATCH = 16  # timers fired in one transaction at most


class TimerLeases:
    def __init__(
        self,
        owner: str,
        *,
        lease: timedelta,
        retry_backoff: timedelta,
        max_backoff: timedelta,
    ) -> None:
        self.owner = owner
        self._lease = lease
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff

    async def claim_batch(self, kinds: list[str], busy: set[str], now: datetime) -> list[Row]:
        """The earliest due timer of an organization without a batch in flight, and the other due
        timers of its organization and kind, each under this instance's lease."""
        due: dict[str, Any] = {"due_at": {"$lte": now}, "lease_until": {"$lte": now}}
        first = await self._claim({"kind": {"$in": kinds}, **due}, busy, now)
        if first is None:
            return []
        token = uuid.uuid4().hex
        try:
            return [first, *await self._claim_more(first, due, token, now)]
        except BaseException:
            # Interrupted half-way (shutting down, the database gone): hand back what was taken
            # now, rather than leave it leased until the lease runs out.
            with contextlib.suppress(PyMongoError):
                await self.release(first, failed=False, now=now)
                await timer_collection().update_many(
                    {"claim": token, "owner": self.owner},
                    {"$set": {"lease_until": now, "owner": None}},
                )
            raise

    async def _claim_more(
        self, first: Row, due: dict[str, Any], token: str, now: datetime
    ) -> list[Row]:
        same = {"org_id": first["org_id"], "kind": first["kind"], **due}
        more = (
            await timer_collection()
            .find(same, {"_id": 1})
            .sort("due_at", ASCENDING)
            .limit(BATCH - 1)
            .to_list()
        )
        if not more:
            return []
        ids = [row["_id"] for row in more]
        await timer_collection().update_many(
            {"_id": {"$in": ids}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": now + self._lease, "owner": self.owner, "claim": token}},
        )
        claimed: list[Row] = (
            await timer_collection()
            .find({"_id": {"$in": ids}, "claim": token})
            .sort("due_at", ASCENDING)
            .to_list()
        )
        return claimed

    async def _claim(self, query: dict[str, Any], busy: set[str], now: datetime) -> Row | None:
        if busy:
            query = {**query, "org_id": {"$nin": sorted(busy)}}
        row: Row | None = await timer_collection().find_one_and_update(
            query,
            {"$set": {"lease_until": now + self._lease, "owner": self.owner}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return row

    async def release(self, row: Row, *, failed: bool, now: datetime) -> None:
        """Give the timer back: at once, or after a backoff that grows with its failures."""
        attempts = row["attempts"] + 1 if failed else row["attempts"]
        backoff = min(self._retry_backoff * 2 ** min(attempts - 1, 30), self._max_backoff)
        retry_at = now + (backoff if failed else timedelta(0))
        await timer_collection().update_one(
            # Only our own claim: if the lease ran out and another instance took it, leave it be.
            {"_id": row["_id"], "owner": self.owner, "lease_until": row["lease_until"]},
            {"$set": {"lease_until": retry_at, "owner": None, "attempts": attempts}},
        )

    async def hand_back(self, rows: Sequence[Row], now: datetime) -> None:
        """Shutting down: timers claimed but not fired go to another instance now, not at the
        end of their lease."""
        with contextlib.suppress(PyMongoError):
            for row in rows:
                await self.release(row, failed=False, now=now)
