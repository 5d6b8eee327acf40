"""Configuration entities and organization policies in MongoDB, read and written inside a session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from domain.configuration.base import ConfigEntity, ConfigKind, Dependent, entity_class
from domain.configuration.policies import OrganizationPolicies
from domain.errors import Conflict, ValidationFailed
from persistence.codec import decode, encode
from persistence.configuration_cache import TransactionConfiguration
from persistence.documents import ConfigurationDocument, ConfigurationLockDocument, PoliciesDocument


def ref_key(kind: ConfigKind, entity_id: str) -> str:
    return f"{kind.value}:{entity_id}"


def to_document(entity: ConfigEntity) -> ConfigurationDocument:
    return ConfigurationDocument(
        id=entity.id,
        org_id=entity.org_id,
        kind=entity.kind.value,
        name_key=entity.name.strip().casefold(),
        active=entity.active,
        version=entity.version,
        unique_keys=[f"{field}:{value}" for field, value in entity.unique_keys().items()],
        refs=sorted({ref_key(ref.kind, ref.id) for ref in entity.references()}),
        data=encode(entity),
    )


def from_document(document: ConfigurationDocument) -> ConfigEntity:
    return decode(entity_class(ConfigKind(document.kind)), document.data)


def _from_row(row: Mapping[str, Any]) -> ConfigEntity:
    return decode(entity_class(ConfigKind(row["kind"])), row["data"])


def _clashing_field(error: DuplicateKeyError) -> str:
    """Which unique key a committed rival holds: ``unique_keys`` values read "field:value"."""
    key_value = (error.details or {}).get("keyValue") or {}
    clash = key_value.get("unique_keys")
    if isinstance(clash, str) and ":" in clash:
        head, *rest = clash.split(":", 1)[0].split("_")
        return head + "".join(part.title() for part in rest)
    return "id" if "_id" in key_value else "name"


class MongoConfigurationRepository:
    def __init__(self, session: AsyncClientSession, cached: TransactionConfiguration) -> None:
        self._session = session
        self._cached = cached
        self._collection = ConfigurationDocument.get_pymongo_collection()

    async def get(self, org_id: str, kind: ConfigKind, entity_id: str) -> ConfigEntity | None:
        async def load() -> ConfigEntity | None:
            row = await self._collection.find_one(
                {"_id": entity_id, "org_id": org_id, "kind": kind.value},
                {"kind": 1, "data": 1},
                session=self._session,
            )
            return None if row is None else _from_row(row)

        found: ConfigEntity | None = await self._cached.read(org_id, (kind, entity_id), load)
        return found

    async def exists(self, entity_id: str) -> bool:
        return (
            await self._collection.count_documents(
                {"_id": entity_id}, limit=1, session=self._session
            )
            > 0
        )

    async def add(self, entity: ConfigEntity) -> None:
        self._cached.written()
        try:
            await to_document(entity).insert(session=self._session)
        except DuplicateKeyError as error:
            field = _clashing_field(error)
            raise ValidationFailed.single(
                field, "unique", f"another {entity.kind} already has this {field}"
            ) from error

    async def save(self, entity: ConfigEntity, *, expected_version: int) -> None:
        self._cached.written()
        document = to_document(entity).model_dump(by_alias=True, exclude={"lock"})
        result = await self._collection.update_one(
            {"_id": entity.id, "org_id": entity.org_id, "version": expected_version},
            {"$set": document},
            session=self._session,
        )
        if result.matched_count == 0:
            raise Conflict(f"{entity.kind} {entity.id!r} was changed by someone else")

    async def find_unique(
        self, org_id: str, kind: ConfigKind, field: str, value: str
    ) -> ConfigEntity | None:
        document = await ConfigurationDocument.find_one(
            {"org_id": org_id, "kind": kind.value, "unique_keys": f"{field}:{value}"},
            session=self._session,
        )
        return None if document is None else from_document(document)

    async def dependents(
        self, org_id: str, kind: ConfigKind, entity_id: str
    ) -> Sequence[Dependent]:
        key = ref_key(kind, entity_id)
        documents = await ConfigurationDocument.find(
            {"org_id": org_id, "refs": key, "active": True}, session=self._session
        ).to_list()
        users = [
            Dependent(document.kind, document.id, str(document.data["name"]))
            for document in documents
        ]
        if await PoliciesDocument.find_one({"_id": org_id, "refs": key}, session=self._session):
            users.append(Dependent("POLICIES", org_id, "organization policies"))
        return users

    async def list_active(self, org_id: str, kind: ConfigKind) -> Sequence[ConfigEntity]:
        async def load() -> tuple[ConfigEntity, ...]:
            rows = await self._collection.find(
                {"org_id": org_id, "kind": kind.value, "active": True},
                {"kind": 1, "data": 1},
                session=self._session,
            ).to_list()
            return tuple(_from_row(row) for row in rows)

        active: tuple[ConfigEntity, ...] = await self._cached.read(org_id, (kind, None), load)
        return active

    async def lock(self, org_id: str, kind: ConfigKind, entity_id: str | None = None) -> None:
        self._cached.written()
        if entity_id is None:
            await ConfigurationLockDocument.get_pymongo_collection().update_one(
                {"_id": f"{org_id}:{kind.value}"},
                {"$inc": {"n": 1}},
                upsert=True,
                session=self._session,
            )
        else:
            await self._collection.update_one(
                {"_id": entity_id, "org_id": org_id}, {"$inc": {"lock": 1}}, session=self._session
            )


class MongoPoliciesRepository:
    def __init__(self, session: AsyncClientSession, cached: TransactionConfiguration) -> None:
        self._session = session
        self._cached = cached

    async def get(self, org_id: str) -> OrganizationPolicies | None:
        async def load() -> OrganizationPolicies | None:
            row = await PoliciesDocument.get_pymongo_collection().find_one(
                {"_id": org_id}, {"data": 1}, session=self._session
            )
            return None if row is None else decode(OrganizationPolicies, row["data"])

        policies: OrganizationPolicies | None = await self._cached.read(org_id, "POLICIES", load)
        return policies

    async def save(self, policies: OrganizationPolicies, *, expected_version: int) -> None:
        self._cached.written()
        refs = sorted({ref_key(ref.kind, ref.id) for ref in policies.references()})
        fields = {"version": policies.version, "refs": refs, "data": encode(policies)}
        if expected_version == 0:
            try:
                await PoliciesDocument(id=policies.org_id, **fields).insert(session=self._session)
            except DuplicateKeyError as error:
                raise Conflict("the policies were changed by someone else") from error
            return
        result = await PoliciesDocument.get_pymongo_collection().update_one(
            {"_id": policies.org_id, "version": expected_version},
            {"$set": fields},
            session=self._session,
        )
        if result.matched_count == 0:
            raise Conflict("the policies were changed by someone else")
