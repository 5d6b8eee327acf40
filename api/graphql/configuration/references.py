"""Resolving the ids an entity holds into entities, through the per-request DataLoader.

Output types keep the raw ids (``teamIds``) and resolve objects (``teams``) lazily, so a list of
fifty agents asks MongoDB for their teams once, not fifty times.
"""

from collections.abc import Iterable

from api.graphql.context import Info
from domain.configuration.base import ConfigEntity, ConfigKind


async def load_many(info: Info, ids: Iterable[str], kind: ConfigKind) -> list[ConfigEntity]:
    """The entities found, in the order of ``ids``; an id of another kind is not one of them."""
    loader = info.context.loaders.configuration_by_id(info.context.require_principal().org_id)
    found = await loader.load_many([str(entity_id) for entity_id in ids])
    return [entity for entity in found if entity is not None and entity.kind is kind]


async def load_one(info: Info, entity_id: str | None, kind: ConfigKind) -> ConfigEntity | None:
    if entity_id is None:
        return None
    found = await load_many(info, [entity_id], kind)
    return found[0] if found else None
