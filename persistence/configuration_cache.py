"""Configuration read once per change, not once per transaction.

Every change of an organization's configuration or policies appends an event to its
configuration stream in the same transaction, so the stream's head ``seq`` names one version of
all of it: two snapshots that read the same head read the same configuration. A transaction reads
that head once (one small document) and takes the entities other transactions read at the same
head from here — routing a contact needs its entry point, queue, CAD variables and policies, and
those reads were most of its round trips. A transaction that writes configuration reads the
database directly from then on, and gives nothing to the cache (its head moves at commit).

The cache is per process and needs no invalidation message: another instance's change moves the
head every reader checks first. Entities are frozen dataclasses, shared as they are.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from domain.streams import configuration_stream
from persistence.documents import StreamHeadDocument

MAX_ORGANIZATIONS = 512  # least recently used ones are dropped beyond this


class OrganizationConfiguration:
    """What was read of one organization's configuration at one head."""

    def __init__(self, head: int) -> None:
        self.head = head
        self._values: dict[object, Any] = {}

    async def get(self, key: object, load: Callable[[], Awaitable[Any]]) -> Any:
        """What ``load`` gives, kept unless it found nothing: ids that name nothing come from
        clients (a wrap-up code, a transfer destination) and would grow the cache without end."""
        if key in self._values:
            return self._values[key]
        value = await load()
        if value is not None:
            self._values[key] = value
        return value


class ConfigurationCache:
    def __init__(self, max_organizations: int = MAX_ORGANIZATIONS) -> None:
        self._organizations: OrderedDict[str, OrganizationConfiguration] = OrderedDict()
        self._max = max_organizations

    def at(self, org_id: str, head: int) -> OrganizationConfiguration:
        known = self._organizations.get(org_id)
        if known is not None and known.head == head:
            self._organizations.move_to_end(org_id)
            return known
        if known is not None and known.head > head:
            # An older snapshot than the one cached: serve it apart, keep the newer one.
            return OrganizationConfiguration(head)
        fresh = self._organizations[org_id] = OrganizationConfiguration(head)
        self._organizations.move_to_end(org_id)
        while len(self._organizations) > self._max:
            self._organizations.popitem(last=False)
        return fresh


class TransactionConfiguration:
    """One unit of work's view of the cache, shared by its configuration and policies
    repositories: the head is read once per organization, and any write turns the cache off."""

    def __init__(self, cache: ConfigurationCache, session: AsyncClientSession) -> None:
        self._cache = cache
        self._session = session
        self._at: dict[str, OrganizationConfiguration] = {}
        self._written = False

    def written(self) -> None:
        self._written = True

    async def read(self, org_id: str, key: object, load: Callable[[], Awaitable[Any]]) -> Any:
        if self._written:
            return await load()
        at = self._at.get(org_id)
        if at is None:
            row = await StreamHeadDocument.get_pymongo_collection().find_one(
                {"_id": configuration_stream(org_id)}, {"seq": 1}, session=self._session
            )
            at = self._at[org_id] = self._cache.at(org_id, 0 if row is None else int(row["seq"]))
        return await at.get(key, load)
