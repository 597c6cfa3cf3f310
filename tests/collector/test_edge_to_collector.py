"""The real device loop into the collector's database: ``poise edge run --source wav:FILE
--mqtt URL`` -> Mosquitto -> ``poise collector`` (the README's three commands, in a test)."""

from __future__ import annotations

from pathlib import Path

from tests.collector.helpers import running, settings_for, wait_until
from tests.support.edge_call import edge_run_mqtt, needs_espeak
from tests.support.mosquitto import Broker

pytestmark = needs_espeak


def test_edge_run_lands_in_the_collector_database(
    e2e_call_wav: Path, mosquitto: Broker, tmp_path: Path
) -> None:
    url = f"sqlite://{tmp_path / 'collector.db'}"
    with running(settings_for(mosquitto.port, url)) as c:
        # a clean exit drains the outbox
        edge_run_mqtt(
            e2e_call_wav,
            tmp_path,
            mosquitto.url,
            "desk-7",
            "floor-2",
            "telemetry.health_interval_s=0.05",
        )

        def shut_down() -> bool:
            d = c.store.device("desk-7")
            return d is not None and d.status_reason == "shutdown"

        wait_until(shut_down, 30, "the device's shutdown status")
        d = c.store.device("desk-7")
        assert d is not None and d.site == "floor-2" and d.online is False
        assert d.software and "pace" in (d.detectors or [])
        counts = c.store.counts()
        assert counts["rows"] == counts["keys"] > 0
        windows = c.store.series("desk-7", "metrics")
        assert sum(w.body["agent_side"]["speech_s"] for w in windows) > 5.0
        assert c.store.series("desk-7", "health"), "health reached the database"
        assert d.health is not None
        assert c.store.gaps() == []
        assert c.metrics.value("poise_collector_rejected_total", reason="schema") == 0
