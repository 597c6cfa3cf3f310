"""``poise edge run --mqtt``: the real device loop publishes to a real mosquitto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.edge_call import edge_run_mqtt, needs_espeak
from tests.support.mosquitto import Broker
from tests.support.mqtt_sub import Received, Subscriber
from tests.telemetry.harness import assert_complete_in_order, outbox_depth, stream

pytestmark = needs_espeak


def _run(wav: Path, tmp: Path, url: str) -> None:
    edge_run_mqtt(wav, tmp, url, "desk-1", "site-1")


def _run_and_receive(wav: Path, tmp: Path, broker: Broker) -> list[Received]:
    """Run the device with a subscriber on every device topic; return what it received up to the
    retained offline/shutdown status a clean exit leaves (the outbox drained before it)."""
    sub = Subscriber(broker.port, ["poise/v1/+/+/+"])
    try:
        _run(wav, tmp, broker.url)
        return sub.wait_for(
            lambda m: any(x.json().get("reason") == "shutdown" for x in m if "status" in x.topic),
            10,
        )
    finally:
        sub.close()


def test_edge_run_publishes_metrics_events_and_status(
    e2e_call_wav: Path, mosquitto: Broker, tmp_path: Path
) -> None:
    msgs = _run_and_receive(e2e_call_wav, tmp_path, mosquitto)
    docs = stream(msgs)  # every payload checked against its schema
    assert_complete_in_order(docs, {1: len({d["seq"] for d in docs})})
    kinds = {d["kind"] for d in docs}
    assert "metrics" in kinds, kinds
    metrics = [d for d in docs if d["kind"] == "metrics"]
    assert sum(m["agent_side"]["speech_s"] for m in metrics) > 5.0
    status: list[dict[str, Any]] = [x.json() for x in msgs if x.topic.endswith("/status")]
    assert [s["state"] for s in status] == ["online", "offline"]
    assert status[0]["model"] is None and "pace" in status[0]["detectors"]
    assert outbox_depth(tmp_path / "telemetry") == 0


def test_edge_run_with_the_broker_down_keeps_everything_for_later(
    e2e_call_wav: Path, mosquitto: Broker, tmp_path: Path
) -> None:
    mosquitto.stop()
    _run(e2e_call_wav, tmp_path, mosquitto.url)  # runs as without telemetry, messages kept
    waiting = outbox_depth(tmp_path / "telemetry")
    assert waiting > 0
    mosquitto.start()
    docs = stream(_run_and_receive(e2e_call_wav, tmp_path, mosquitto))
    boot1 = {d["seq"] for d in docs if d["boot"] == 1}
    assert len(boot1) == waiting and boot1 == set(range(waiting))
    assert outbox_depth(tmp_path / "telemetry") == 0
