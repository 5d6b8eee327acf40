"""Read side of configuration: pages and batches for the API, outside any transaction."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.policies import OrganizationPolicies
from domain.errors import ValidationFailed
from persistence.codec import decode
from persistence.configuration_repository import from_document
from persistence.documents import ConfigurationDocument, PoliciesDocument

MAX_SEARCH_LENGTH = 100


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed.single("after", "cursor", "the cursor is not one this API returned")


@dataclass(frozen=True)
class Page:
    items: Sequence[ConfigEntity]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(document: ConfigurationDocument) -> str:
    raw = json.dumps([document.name_key, document.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        name_key, entity_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as error:
        raise _invalid_cursor() from error
    if not isinstance(name_key, str) or not isinstance(entity_id, str):
        raise _invalid_cursor()
    return name_key, entity_id


class ConfigurationQueries:
    async def page(
        self,
        org_id: str,
        kind: ConfigKind,
        *,
        first: int,
        after: str | None,
        include_inactive: bool,
        search: str | None = None,
    ) -> Page:
        """Entities by name (then id), keyset-paginated."""
        query: dict[str, Any] = {"org_id": org_id, "kind": kind.value}
        if not include_inactive:
            query["active"] = True
        if search and len(search) > MAX_SEARCH_LENGTH:
            raise ValidationFailed.single(
                "search",
                f"max_length:{MAX_SEARCH_LENGTH}",
                f"search must have at most {MAX_SEARCH_LENGTH} characters",
            )
        if search:
            query["name_key"] = {"$regex": re.escape(search.strip().casefold())}
        if after is not None:
            name_key, entity_id = decode_cursor(after)
            query["$or"] = [
                {"name_key": {"$gt": name_key}},
                {"name_key": name_key, "_id": {"$gt": entity_id}},
            ]
            if search:
                query["$and"] = [{"name_key": query.pop("name_key")}]
        documents = (
            await ConfigurationDocument.find(query)
            .sort([("name_key", 1), ("_id", 1)])
            .limit(first + 1)
            .to_list()
        )
        shown = documents[:first]
        return Page(
            items=[from_document(document) for document in shown],
            cursors=[encode_cursor(document) for document in shown],
            has_next_page=len(documents) > first,
            has_previous_page=after is not None,
        )

    async def get_many(self, org_id: str, ids: Sequence[str]) -> dict[str, ConfigEntity]:
        documents = await ConfigurationDocument.find(
            {"org_id": org_id, "_id": {"$in": list(ids)}}
        ).to_list()
        return {document.id: from_document(document) for document in documents}

    async def policies(self, org_id: str) -> OrganizationPolicies:
        document = await PoliciesDocument.find_one({"_id": org_id})
        return (
            OrganizationPolicies(org_id=org_id)
            if document is None
            else decode(OrganizationPolicies, document.data)
        )
