"""Turns domain dataclasses into BSON-ready dicts and back, guided by their type hints.

Domain objects stay free of any ODM; this is the one place that knows how they are stored.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [encode(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, frozenset | set) else items
    return value


def decode(cls: type[T], data: Mapping[str, Any]) -> T:
    hints = _hints(cls)
    kwargs = {
        f.name: _decode_value(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.init and f.name in data
    }
    return cls(**kwargs)


def encode_tagged(value: Any) -> dict[str, Any]:
    """Encode with the class's qualified name, so ``decode_tagged`` can rebuild it."""
    cls = type(value)
    return {"type": f"{cls.__module__}:{cls.__qualname__}", "data": encode(value)}


def decode_tagged(tagged: Mapping[str, Any]) -> Any:
    module_name, _, qualname = tagged["type"].partition(":")
    if not module_name.startswith("domain."):
        raise ValueError(f"refusing to decode a non-domain type {tagged['type']!r}")
    cls = getattr(importlib.import_module(module_name), qualname)
    return decode(cls, tagged["data"])


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        candidates = [a for a in args if a is not type(None)]
        return _decode_value(candidates[0], value) if len(candidates) == 1 else value
    if origin in (tuple, list, frozenset, set):
        item_hint = args[0] if args else Any
        items = [_decode_value(item_hint, v) for v in value]
        return origin(items)
    if origin in (dict, Mapping) or hint is Mapping:
        return dict(value)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return decode(hint, value)
        if issubclass(hint, Enum):
            return hint(value)
        if hint is datetime and isinstance(value, datetime) and value.tzinfo is None:
            # MongoDB stores UTC without a zone; give it back aware.
            return value.replace(tzinfo=UTC)
    return value
