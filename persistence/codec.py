"""Turns domain dataclasses into BSON-ready dicts and back, guided by their type hints.

Domain objects stay free of any ODM; this is the one place that knows how they are stored.
Reading the hints of a class is slow next to the copying itself, so each class's plan — which
converter each field needs — is worked out once and kept: every repository read and write goes
through here, several dozen objects per routed contact.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")
Converter = Callable[[Any], Any]


def encode(value: Any) -> Any:
    cls = type(value)
    if cls in _PLAIN:
        return value
    fields = _encoded_fields(cls)
    if fields is not None:
        return {name: encode(getattr(value, name)) for name in fields}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [encode(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, frozenset | set) else items
    return value


def decode(cls: type[T], data: Mapping[str, Any]) -> T:
    return _dataclass_decoder(cls)(data)  # type: ignore[no-any-return]


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


# Values stored as they are (the common leaves): no plan to look up.
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None), datetime, bytes})


@cache
def _encoded_fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, in declaration order; None for any other type."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


@cache
def _dataclass_decoder(cls: type) -> Converter:
    hints = typing.get_type_hints(cls)
    plan = tuple(
        (f.name, _decoder(hints[f.name]))
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.init
    )

    def decode_dataclass(data: Mapping[str, Any]) -> Any:
        kwargs = {}
        for name, convert in plan:
            if name in data:
                value = data[name]
                kwargs[name] = None if value is None else convert(value)
        return cls(**kwargs)

    return decode_dataclass


def _as_is(value: Any) -> Any:
    return value


def _aware(value: Any) -> Any:
    # MongoDB stores UTC without a zone; give it back aware.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@cache
def _decoder(hint: Any) -> Converter:
    """How to rebuild a non-None stored value of type ``hint``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        candidates = [a for a in args if a is not type(None)]
        return _decoder(candidates[0]) if len(candidates) == 1 else _as_is
    if origin in (tuple, list, frozenset, set):
        item = _decoder(args[0]) if args else _as_is
        if item is _as_is:
            return lambda value: origin(value)
        return lambda value: origin([None if v is None else item(v) for v in value])
    if origin in (dict, Mapping) or hint is Mapping:
        return dict
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _dataclass_decoder(hint)
        if issubclass(hint, Enum):
            return hint
        if hint is datetime:
            return _aware
    return _as_is
