"""Collector test fixtures: real Mosquitto and PostgreSQL (tests.support), both store backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.storage import SqlStore, open_store
from tests.support.mosquitto import broker_factory, mosquitto  # noqa: F401  (fixtures)
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'collector.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    yield s
    s.close()
