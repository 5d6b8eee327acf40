"""The codec round-trips every stored domain dataclass, in memory and through real BSON.

Values are generated from each class's own type hints, so a kind or event added later is
covered without touching this file (and a field type the codec cannot store fails here).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import bson
import pytest
from bson.codec_options import CodecOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domain.configuration.events  # noqa: F401 - registers the configuration events
from domain.configuration.base import ConfigKind, entity_class
from domain.configuration.policies import OrganizationPolicies
from domain.events import DomainEvent
from persistence.codec import decode, decode_tagged, encode, encode_tagged

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=12)
# Domain time is timezone-aware UTC; BSON keeps milliseconds (the runner's clock gives no more).
UTC_MS = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001 - bounds of naive values made aware below
    max_value=datetime(9999, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
BSON_OPTIONS = CodecOptions(tz_aware=True)


def values(hint: Any) -> st.SearchStrategy[Any]:
    """Values of type ``hint`` as the domain holds them."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(values(arg) for arg in args))
    if origin is tuple:
        return st.lists(values(args[0]), max_size=3).map(tuple)
    if origin is frozenset:
        return st.frozensets(values(args[0]), max_size=3)
    if hint is type(None):
        return st.none()
    if dataclasses.is_dataclass(hint):
        return instances(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: TEXT,
        bool: st.booleans(),
        int: INT64,
        float: st.floats(allow_nan=False),
        datetime: UTC_MS,
    }
    if hint in simple:
        return simple[hint]
    raise NotImplementedError(f"no strategy for {hint!r}: teach this test (and check the codec)")


def instances(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {
        field.name: values(hints[field.name]) for field in dataclasses.fields(cls) if field.init
    }
    return st.builds(cls, **fields)


def event_classes() -> list[type[DomainEvent]]:
    found, pending = [], list(DomainEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


STORED_CLASSES = [
    *(entity_class(kind) for kind in ConfigKind),
    OrganizationPolicies,
    *event_classes(),
]
CLASS_IDS = [cls.__name__ for cls in STORED_CLASSES]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("cls", STORED_CLASSES, ids=CLASS_IDS)
@SETTINGS
@given(data=st.data())
def test_encode_then_decode_gives_the_same_object(cls: type, data: st.DataObject) -> None:
    value = data.draw(instances(cls))

    assert decode(cls, encode(value)) == value


@pytest.mark.parametrize("cls", STORED_CLASSES, ids=CLASS_IDS)
@SETTINGS
@given(data=st.data())
def test_the_encoding_survives_a_trip_through_bson(cls: type, data: st.DataObject) -> None:
    value = data.draw(instances(cls))

    stored = bson.decode(bson.encode(encode(value)), codec_options=BSON_OPTIONS)

    assert decode(cls, stored) == value


@pytest.mark.parametrize("cls", STORED_CLASSES, ids=CLASS_IDS)
@SETTINGS
@given(data=st.data())
def test_a_tagged_encoding_rebuilds_its_own_class(cls: type, data: st.DataObject) -> None:
    value = data.draw(instances(cls))

    stored = bson.decode(bson.encode(encode_tagged(value)), codec_options=BSON_OPTIONS)
    rebuilt = decode_tagged(stored)

    assert type(rebuilt) is cls
    assert rebuilt == value


def test_decoding_gives_enums_tuples_and_aware_times_back() -> None:
    policies = OrganizationPolicies(
        org_id="org-1", pii_patterns=("a+", "b"), updated_at=datetime(2024, 5, 1, tzinfo=UTC)
    )
    stored = encode(policies)
    stored["updated_at"] = datetime(2024, 5, 1)  # noqa: DTZ001 - how a client without tz_aware reads it

    decoded = decode(OrganizationPolicies, stored)

    assert decoded == policies
    assert isinstance(decoded.pii_patterns, tuple)
    assert decoded.updated_at is not None
    assert decoded.updated_at.tzinfo is not None
    assert type(decoded.pci_policy) is type(policies.pci_policy)


def test_tagged_decoding_refuses_classes_outside_the_domain() -> None:
    with pytest.raises(ValueError, match="non-domain"):
        decode_tagged({"type": "subprocess:Popen", "data": {"args": ["true"]}})
