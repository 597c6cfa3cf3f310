"""Hostile input: >= 100,000 malformed payloads, every one rejected (never stored, never a crash),
and every valid message sent between them stored."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from broker.collector.batch import BatchWriter, RateLimitedLog, Received
from broker.collector.metrics import Metrics
from broker.collector.validate import REASONS, Rejected, validate
from broker.storage import open_store
from tests.collector.helpers import running, settings_for, wait_until
from tests.collector.hostile import Generator
from tests.support.mosquitto import Broker
from tests.support.telemetry import DeviceSim, TestPublisher


def test_every_category_is_rejected_for_its_reason() -> None:
    reasons: dict[str, Counter[str]] = {}
    for category, topic, payload in Generator(seed=1).take(5000):
        v = validate(topic, payload, 0.0)
        assert isinstance(v, Rejected), (category, topic, payload[:200])
        reasons.setdefault(category, Counter())[v.reason] += 1
    assert set(reasons) == {f.__name__ for f in Generator(0).categories}
    assert set(reasons["spoofed"]) == {"spoofed"}
    assert set(reasons["huge"]) == {"too_large"}
    assert set(reasons["bad_topic"]) == {"bad_topic"}
    assert set(reasons["non_finite"]) == {"non_finite"}
    assert set(reasons["bad_ts"]) <= {"bad_ts", "schema"}
    assert "bad_unicode" in reasons["odd_unicode"] and "not_utf8" in reasons["odd_unicode"]
    assert "too_deep" in reasons["deep"]


@pytest.mark.parametrize(
    "n_total", [20_400, pytest.param(102_000, marks=pytest.mark.slow, id="100k")]
)
def test_hostile_payloads_in_process(tmp_path: Path, n_total: int) -> None:
    """The writer core with a real SQLite store: hostile payloads with every 51st one valid
    (the slow variant: 100,000 hostile + 2,000 valid)."""
    store = open_store(f"sqlite://{tmp_path / 'c.db'}", sqlite_synchronous="NORMAL")
    metrics = Metrics()
    writer = BatchWriter(
        store,
        metrics,
        wall=time.time,
        monotonic=time.monotonic,
        max_bytes=64 * 1024,
        reject_log=RateLimitedLog(60.0, time.monotonic),
    )
    gen = iter(Generator(seed=100))
    good = DeviceSim("site-a", "desk-f")
    batch: list[Received] = []
    n_hostile = n_valid = 0
    for i in range(n_total):
        if i % 51 == 50:
            topic, payload = good.stream("metrics" if i % 3 else "events")
            n_valid += 1
        else:
            _, topic, payload = next(gen)
            n_hostile += 1
        batch.append(Received(topic, payload, mid=i % 65535 + 1, qos=1, received=time.time()))
        if len(batch) == 1000:
            writer.process(batch)
            batch = []
    writer.process(batch)
    assert n_hostile == n_total // 51 * 50
    total_rejected = sum(metrics.value("poise_collector_rejected_total", reason=r) for r in REASONS)
    assert total_rejected == n_hostile
    assert store.counts() == {"rows": n_valid, "keys": n_valid, "devices": 1}
    assert store.gaps() == []
    assert store.device("hostile") is None
    store.close()


def _fuzz_through_broker(broker: Broker, url: str, n_hostile: int) -> None:
    good = DeviceSim("site-a", "desk-g")
    with running(settings_for(broker.port, url)) as c:
        pub = TestPublisher(broker.port, good, inflight=200)
        hostile = iter(Generator(seed=7))
        valid = 0
        for i in range(n_hostile):
            _, topic, payload = next(hostile)
            pub.publish(topic, payload)
            if i % 50 == 0:
                pub.publish(*good.stream("metrics"))
                valid += 1
        pub.wait_acked(120)
        rejected = lambda: sum(  # noqa: E731
            v.value
            for m in c.metrics.rejected.collect()
            for v in m.samples
            if v.name.endswith("_total")
        )
        wait_until(lambda: rejected() >= n_hostile, 120, "all hostile messages judged")
        wait_until(lambda: c.store.counts()["rows"] >= valid, 60, "valid rows")
        # more than n_hostile if the broker redelivered some after a reconnect (at-least-once)
        assert rejected() >= n_hostile
        assert c.store.counts() == {"rows": valid, "keys": valid, "devices": 1}
        assert c.store.gaps() == []
        assert c.health()["ok"] is True


def test_hostile_payloads_through_mosquitto(mosquitto: Broker, tmp_path: Path) -> None:
    _fuzz_through_broker(mosquitto, f"sqlite://{tmp_path / 'c.db'}", 10_000)


@pytest.mark.slow
def test_100k_hostile_payloads_through_mosquitto(mosquitto: Broker, tmp_path: Path) -> None:
    _fuzz_through_broker(mosquitto, f"sqlite://{tmp_path / 'c.db'}", 100_000)
