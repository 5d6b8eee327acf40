"""Per-request DataLoaders: one batched read per relation, however many objects ask."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from domain.configuration.base import ConfigEntity
from domain.configuration.policies import OrganizationPolicies
from persistence.configuration_queries import ConfigurationQueries


class ConfigurationByIdLoader(DataLoader[str, ConfigEntity | None]):
    def __init__(self, queries: ConfigurationQueries, org_id: str) -> None:
        async def load(ids: Sequence[str]) -> list[ConfigEntity | None]:
            found = await queries.get_many(org_id, ids)
            return [found.get(entity_id) for entity_id in ids]

        super().__init__(load_fn=load)


class Loaders:
    """Created lazily per request, scoped to the caller's organization."""

    def __init__(self, queries: ConfigurationQueries) -> None:
        self._queries = queries
        self._by_org: dict[str, ConfigurationByIdLoader] = {}
        self._policies: dict[str, OrganizationPolicies] = {}

    async def policies(self, org_id: str) -> OrganizationPolicies:
        """The organization's policies, read once per request."""
        if org_id not in self._policies:
            self._policies[org_id] = await self._queries.policies(org_id)
        return self._policies[org_id]

    def configuration_by_id(self, org_id: str) -> ConfigurationByIdLoader:
        if org_id not in self._by_org:
            self._by_org[org_id] = ConfigurationByIdLoader(self._queries, org_id)
        return self._by_org[org_id]
