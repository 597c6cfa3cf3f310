"""Building a publisher for tests, and checking what a subscriber received."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from edge.protocols import Clock
from edge.telemetry import schemas
from edge.telemetry.control import BirthInfo, ModelInfo
from edge.telemetry.health import AudioHealth, HealthProviders, HealthReporter
from edge.telemetry.outbox import OUTBOX_FILE
from edge.telemetry.publisher import Publisher
from edge.telemetry.settings import TelemetrySettings
from edge.telemetry.stream import STREAM_KINDS
from edge.telemetry.topics import parse_topic
from tests.support.mqtt_sub import Received

BIRTH = BirthInfo(
    software="0.1.0",
    model=ModelInfo("prosody-v1", "ab" * 32),
    config_version=None,
    policy_profile="default",
    detectors=("pace", "overtalk"),
)

WALL0 = 1_780_000_000.0


class FakeWall:
    """A wall clock tied to a (fake) monotonic clock."""

    def __init__(self, clock: Clock, start: float = WALL0) -> None:
        self.clock = clock
        self.start = start - clock.now()

    def __call__(self) -> float:
        return self.start + self.clock.now()


def fixed_providers() -> HealthProviders:
    return HealthProviders(
        cpu_temp_c=lambda: 48.5,
        load1=lambda: 0.4,
        rss_bytes=lambda: 50_000_000,
        audio=lambda: AudioHealth(True, 0, 0),
    )


def settings(state: Path, broker: str, **kw: Any) -> TelemetrySettings:
    base = dict(
        broker=broker,
        site="site-1",
        device="desk-1",
        state_dir=state,
        backoff_min_s=1.0,
        backoff_max_s=8.0,
        health_interval_s=60.0,
    )
    base.update(kw)
    return TelemetrySettings(**base)  # type: ignore[arg-type]


def make_publisher(
    state: Path, broker: str, clock: Clock, health: bool = True, birth: BirthInfo = BIRTH, **kw: Any
) -> Publisher:
    s = settings(state, broker, **kw)
    reporter = HealthReporter(clock, s.health_interval_s, fixed_providers()) if health else None
    return Publisher.open(s, birth, clock, FakeWall(clock), reporter)


def outbox_depth(state: Path) -> int:
    with sqlite3.connect(state / OUTBOX_FILE) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def stream(messages: list[Received]) -> list[dict[str, Any]]:
    """Decoded stream payloads (metrics/events/health), every one checked against its schema
    and its topic."""
    out = []
    for m in messages:
        kind = parse_topic(m.topic).kind
        doc = json.loads(m.payload)
        schemas.validate(kind, doc)
        assert doc["kind"] == kind
        assert parse_topic(m.topic).device == doc["device"]
        if kind in STREAM_KINDS:
            out.append(doc)
    return out


def first_seen(docs: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Per boot, the seqs in the order they were first seen (duplicates dropped)."""
    seen: set[tuple[int, int]] = set()
    order: dict[int, list[int]] = defaultdict(list)
    for d in docs:
        key = (d["boot"], d["seq"])
        if key not in seen:
            seen.add(key)
            order[d["boot"]].append(d["seq"])
    return dict(order)


def assert_complete_in_order(docs: list[dict[str, Any]], expected: dict[int, int]) -> None:
    """Every (boot, seq) of ``expected`` (boot -> number of messages) seen at least once, first
    occurrences in order per boot, nothing else."""
    order = first_seen(docs)
    assert sorted(order) == sorted(expected), (sorted(order), expected)
    for boot, n in expected.items():
        assert order[boot] == list(range(n)), (boot, order[boot][:20], n)


def replace(s: TelemetrySettings, **kw: Any) -> TelemetrySettings:
    return dataclasses.replace(s, **kw)
