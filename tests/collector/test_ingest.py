"""The collector against a real Mosquitto: stored exactly once, acknowledged only after commit."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from broker.storage import open_store
from tests.collector.helpers import running, settings_for, wait_until
from tests.support.mosquitto import Broker
from tests.support.telemetry import DeviceSim, TestPublisher


def test_stores_every_message_once_with_registry(mosquitto: Broker, store_url: str) -> None:
    sim = DeviceSim("site-a", "desk-1", boot=4)
    with running(settings_for(mosquitto.port, store_url)) as c:
        pub = TestPublisher(mosquitto.port, sim)
        msgs = sim.mixed(300)
        pub.publish_all(msgs)
        pub.publish_all(msgs[:50])  # the device re-sends some (at-least-once): no doubles
        pub.wait_acked()
        wait_until(
            lambda: c.metrics.value("poise_collector_messages_total", result="duplicate") >= 50
        )
        wait_until(lambda: c.store.counts()["rows"] == 300)
        assert c.store.counts() == {"rows": 300, "keys": 300, "devices": 1}
        assert c.store.gaps() == []
        d = c.store.device("desk-1")
        assert d is not None and d.online is True and d.boot == 4
        assert d.software == "0.1.0" and d.health is not None
        assert c.metrics.value("poise_collector_messages_total", result="stored") == 300
        pub.drop()  # vanishes: the broker publishes the retained last will
        wait_until(lambda: c.store.device("desk-1").online is False, what="last will stored")  # type: ignore[union-attr]
        assert c.store.device("desk-1").status_reason == "lost"  # type: ignore[union-attr]


class GatedStore:
    """A store whose writes wait for a gate and then fail: nothing ever commits."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.gate = threading.Event()

    def write(self, batch: Any) -> int:
        self.entered.set()
        self.gate.wait(30)
        raise RuntimeError("database went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_nothing_is_acknowledged_before_it_commits(mosquitto: Broker, tmp_path: Path) -> None:
    """A collector whose commits never succeed acks nothing: after it is gone, a collector with
    the same persistent session gets every message again from the broker."""
    url = f"sqlite://{tmp_path / 'c.db'}"
    sim = DeviceSim("site-a", "desk-2")
    settings = settings_for(mosquitto.port, url, client_id="collector-under-test")
    gated = GatedStore(open_store(url))
    with running(settings, gated):  # type: ignore[arg-type]
        pub = TestPublisher(mosquitto.port, sim)
        pub.publish_all(sim.mixed(200))
        pub.wait_acked()
        assert gated.entered.wait(10)
        gated.gate.set()  # every commit now fails: the collector retries, acks nothing
    assert open_store(url).counts()["rows"] == 0
    with running(settings) as c:
        wait_until(lambda: c.store.counts()["rows"] == 200, what="redelivered rows")
        assert c.store.gaps() == []
