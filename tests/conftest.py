"""Shared fixtures: one real embedded ``mongod`` for the whole run (a single-node replica set)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from persistence.embedded_mongod import EmbeddedMongo, find_mongod


@pytest.fixture(scope="session")
def mongod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo]:
    mongo = EmbeddedMongo(data_dir=Path(tmp_path_factory.mktemp("mongod")), binary=find_mongod())
    mongo.start()
    try:
        yield mongo
    finally:
        mongo.stop()


@pytest.fixture(scope="session")
def mongodb_url(mongod: EmbeddedMongo) -> str:
    return mongod.url
