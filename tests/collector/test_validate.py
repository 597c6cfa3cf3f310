"""Validation and the writer core, without a broker."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from broker.collector.batch import BatchWriter, RateLimitedLog, Received
from broker.collector.metrics import Metrics
from broker.collector.validate import Ignored, Rejected, validate
from broker.storage import Message, open_store
from edge.telemetry.envelope import parse_ts
from tests.support.telemetry import DeviceSim


@pytest.mark.parametrize("kind", ["metrics", "events", "health"])
def test_valid_stream_messages_are_accepted(kind: str) -> None:
    sim = DeviceSim("site-a", "desk-1", boot=3)
    topic, payload = sim.stream(kind)
    m = validate(topic, payload, 123.0)
    assert isinstance(m, Message)
    body = json.loads(payload)
    assert (m.site, m.device, m.kind, m.boot, m.seq) == ("site-a", "desk-1", kind, 3, 0)
    assert m.ts == parse_ts(body["ts"]) and m.received == 123.0
    assert m.body == body and json.loads(m.text) == body
    assert m.call == body.get("call")


def test_status_and_control_topics() -> None:
    sim = DeviceSim("site-a", "desk-1")
    topic, payload = sim.status("online", "birth")
    assert isinstance(validate(topic, payload, 0.0), Message)
    cfg = sim.topics.config
    assert validate(cfg, b"anything", 0.0) == Ignored("config")
    assert validate(sim.topics.cmd, b"{}", 0.0) == Ignored("cmd")


def test_size_cap_is_configurable() -> None:
    topic, payload = DeviceSim("site-a", "desk-1").stream()
    v = validate(topic, payload, 0.0, max_bytes=100)
    assert isinstance(v, Rejected) and v.reason == "too_large"


def test_rate_limited_log(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    rl = RateLimitedLog(60.0, lambda: now[0])
    with caplog.at_level(logging.WARNING):
        assert rl.warn("schema", "first") is True
        assert [rl.warn("schema", "again") for _ in range(5)] == [False] * 5
        assert rl.warn("spoofed", "other reason") is True
        now[0] = 61.0
        assert rl.warn("schema", "later") is True
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["first", "other reason", "later (+5 more since last report)"]


def test_writer_ignores_status_copies_from_the_shared_subscription(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 'c.db'}")
    metrics = Metrics()
    w = BatchWriter(
        store,
        metrics,
        wall=time.time,
        monotonic=time.monotonic,
        max_bytes=65536,
        reject_log=RateLimitedLog(60, time.monotonic),
    )
    sim = DeviceSim("site-a", "desk-1")
    st_topic, birth = sim.status("online", "birth")
    items = [
        Received(st_topic, birth, 1, 1, 0.0, via_shared=True),
        Received(*sim.stream(), 2, 1, 0.0),
        Received("poise/v1/site-a/desk-1/metrics", b"{", 3, 1, 0.0),
    ]
    r = w.process(items)
    assert (r.stored, r.rejected, r.ignored) == (1, 1, 1)
    assert store.device("desk-1").online is None  # type: ignore[union-attr]
    w.process([Received(st_topic, birth, 4, 1, 0.0, via_shared=False)])
    assert store.device("desk-1").online is True  # type: ignore[union-attr]
    assert metrics.value("poise_collector_rejected_total", reason="not_json") == 1
    assert metrics.value("poise_collector_messages_total", result="status") == 1


def test_a_row_the_store_refuses_is_isolated_not_a_stall(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 'c.db'}")
    inner = store.write

    def picky(batch: list[Message]) -> int:
        if any(m.seq == 2 for m in batch):
            raise RuntimeError("value out of range for this backend")
        return inner(batch)

    store.write = picky  # type: ignore[method-assign,assignment]
    w = BatchWriter(
        store,
        Metrics(),
        wall=time.time,
        monotonic=time.monotonic,
        max_bytes=65536,
        reject_log=RateLimitedLog(60, time.monotonic),
    )
    sim = DeviceSim("site-a", "desk-1")
    items = [Received(*sim.stream(), i + 1, 1, 0.0) for i in range(5)]
    with pytest.raises(RuntimeError):
        w.process(items)
    r = w.process(items, isolate=True)
    assert (r.stored, r.rejected) == (4, 1)
    assert w.metrics.value("poise_collector_rejected_total", reason="store_refused") == 1
