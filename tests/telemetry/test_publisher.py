"""The publisher against a real mosquitto: birth and last will, policy, a full outbox, commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.protocols import FakeClock
from edge.settings import load_settings
from edge.telemetry import schemas
from edge.telemetry.control import ControlMessage
from edge.telemetry.sink import TelemetrySink
from edge.telemetry.topics import DeviceTopics
from tests.support.mosquitto import Broker
from tests.support.mqtt_sub import Subscriber
from tests.support.ports import free_port
from tests.telemetry.harness import make_publisher, outbox_depth, stream
from tests.telemetry.synthetic import mixed, window

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["poise/v1/+/+/+"]
DEVICE = DeviceTopics("site-1", "desk-1")


def _retained_status(port: int) -> dict[str, Any]:
    """What a newly connecting subscriber gets on the status topic (retained)."""
    sub = Subscriber(port, [DEVICE.status])
    try:
        msgs = sub.wait_for(lambda m: len(m) >= 1, 10)
    finally:
        sub.close()
    assert msgs[0].retain
    doc: dict[str, Any] = msgs[0].json()
    schemas.validate("status", doc)
    return doc


def _seen_status(watch: Subscriber, state: str, boot: int) -> dict[str, Any]:
    """Wait until the watching subscriber saw that status, then return the retained one (a
    new subscriber's), which must be the same."""
    watch.wait_for(
        lambda m: any(x.json()["state"] == state and x.json()["boot"] == boot for x in m), 10
    )
    doc = _retained_status(watch.client.port)
    assert (doc["state"], doc["boot"]) == (state, boot)
    return doc


def test_birth_and_last_will_are_retained_and_correct(mosquitto: Broker, tmp_path: Path) -> None:
    state = tmp_path / "state"
    watch = Subscriber(mosquitto.port, [DEVICE.status])
    args = ["--state", str(state), "--broker", mosquitto.url, "--count", "3", "--wait-connected"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.telemetry.driver", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        birth = _seen_status(watch, "online", 1)
    finally:
        proc.kill()  # no clean shutdown: the broker publishes the last will
        proc.communicate(timeout=10)
    assert birth["reason"] == "birth" and birth["software"] == "0.1.0"
    assert birth["policy_profile"] == "default" and birth["detectors"] == ["pace"]
    will = _seen_status(watch, "offline", 1)
    assert will["reason"] == "lost"

    # a clean run: online again (boot 2), then a clean stop replaces it with offline/shutdown
    clock = FakeClock(0.0)
    pub = make_publisher(state, mosquitto.url, clock, health=False).start()
    try:
        online = _seen_status(watch, "online", 2)
        assert online["model"] == {"name": "prosody-v1", "sha256": "ab" * 32}
    finally:
        pub.stop(2.0)
    bye = _seen_status(watch, "offline", 2)
    watch.close()
    assert bye["reason"] == "shutdown"


def _run_profile(port: int, url: str, state: Path, profile: str) -> list[dict[str, Any]]:
    policy = load_settings(None, [f"policy.profile={profile}"]).policy
    sub = Subscriber(port, TOPICS)
    clock = FakeClock(0.0)
    pub = make_publisher(state, url, clock, health=False).start()
    sink = TelemetrySink(pub, policy)
    try:
        for ev in mixed(12):
            sink.handle(ev)
        n = pub.next_seq
        assert n > 0
        msgs = sub.wait_for(lambda m: len(stream(m)) >= n, 10)
    finally:
        pub.stop(2.0)
        sub.close()
    return stream(msgs)


def _keys(doc: Any) -> set[str]:
    if isinstance(doc, dict):
        return set(doc) | {k for v in doc.values() for k in _keys(v)}
    if isinstance(doc, list):
        return {k for v in doc for k in _keys(v)}
    return set()


def test_eu_profile_lets_no_arousal_and_no_stress_or_empathy_out(
    mosquitto: Broker, tmp_path: Path
) -> None:
    docs = _run_profile(mosquitto.port, mosquitto.url, tmp_path / "eu", "eu")
    assert any(d["kind"] == "metrics" for d in docs) and any(d["kind"] == "events" for d in docs)
    for d in docs:
        assert "arousal" not in _keys(d)
        assert "stress" not in json.dumps(d) and "empathy" not in json.dumps(d)
    # the same events under the default profile do carry arousal (the check above can fail)
    default = _run_profile(mosquitto.port, mosquitto.url, tmp_path / "default", "default")
    assert any("arousal" in _keys(d) for d in default)
    # and stress is never published, whatever the profile
    assert not any(d.get("event", {}).get("cue") == "stress" for d in default)


def test_private_profile_publishes_nothing_but_status(mosquitto: Broker, tmp_path: Path) -> None:
    policy = load_settings(None, ["policy.profile=private"]).policy
    pub = make_publisher(tmp_path / "s", mosquitto.url, FakeClock(0.0), health=False).start()
    sink = TelemetrySink(pub, policy)
    for ev in mixed(5):
        sink.handle(ev)
    assert pub.next_seq == 0 and sink.withheld == len(mixed(5))
    pub.stop(1.0)


def test_full_outbox_drops_oldest_first_and_says_so_in_health(
    mosquitto: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    clock = FakeClock(0.0)
    # not started yet: nothing can be sent, everything waits in the outbox
    pub = make_publisher(state, mosquitto.url, clock, outbox_max_rows=10)
    sink = TelemetrySink(pub, load_settings().policy)
    for i in range(25):
        sink.handle(window(i))
    assert outbox_depth(state) == 10 and pub.outbox.stats().dropped == 15
    assert "outbox full: dropped the 1 oldest message(s) (15 dropped in all)" in caplog.text
    sub = Subscriber(mosquitto.port, TOPICS)
    try:
        clock.advance(60.0)  # health is due: stored as seq 25, dropping seq 15
        pub.start()
        assert pub.wait_connected(10)
        msgs = sub.wait_for(lambda m: len(stream(m)) >= 10, 10)
        assert pub.wait_drained(10)
    finally:
        pub.stop(2.0)
        sub.close()
    docs = stream(msgs)
    assert [d["seq"] for d in docs] == list(range(16, 26))  # seq 0..15 were the oldest
    health = [d for d in docs if d["kind"] == "health"]
    assert len(health) == 1
    assert health[0]["outbox"] == {
        "depth": 10,
        "bytes": health[0]["outbox"]["bytes"],
        "dropped": 15,
    }
    assert health[0]["cpu_temp_c"] == 48.5 and health[0]["uptime_s"] == 60.0


def test_dropped_count_survives_a_restart(tmp_path: Path) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    pub = make_publisher(tmp_path, url, FakeClock(0.0), outbox_max_rows=3, health=False)
    for i in range(5):
        pub.publish("metrics", _metrics_body(i))
    pub.stop()
    again = make_publisher(tmp_path, url, FakeClock(0.0), outbox_max_rows=3, health=False)
    assert again.outbox.stats().dropped == 2 and again.boot == 2
    again.stop()


def _metrics_body(i: int) -> dict[str, Any]:
    from edge.telemetry.payloads import metrics_body

    return metrics_body(window(i), True, frozenset({"pace"}))


def test_commands_reach_registered_handlers_and_bad_ones_do_not(
    mosquitto: Broker, tmp_path: Path
) -> None:
    got: list[ControlMessage] = []
    pub = make_publisher(tmp_path / "s", mosquitto.url, FakeClock(0.0), health=False)
    pub.add_handler("cmd", got.append)
    pub.add_handler("config", got.append)
    pub.start()
    assert pub.wait_connected(10)
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sender.connect("127.0.0.1", mosquitto.port)
    sender.loop_start()
    try:
        good = {
            "v": 1,
            "kind": "cmd",
            "id": "c-1",
            "ts": "2026-12-01T10:00:00.000Z",
            "cmd": "identify",
            "args": {},
        }
        # wait until the device's subscription is in place: the retained config proves it
        sender.publish(DEVICE.config, b"signed-config-bytes", qos=1, retain=True).wait_for_publish(
            5
        )
        assert _wait(lambda: len(got) >= 1)
        for payload in (
            b"not json",
            json.dumps({**good, "cmd": "rm -rf"}).encode(),
            json.dumps(good).encode(),
        ):
            sender.publish(DEVICE.cmd, payload, qos=1).wait_for_publish(5)
        deadline_ok = _wait(lambda: len(got) >= 2 and pub.control.invalid >= 2)
        seen = list(got)
    finally:
        sender.publish(DEVICE.config, b"", qos=1, retain=True).wait_for_publish(5)
        sender.loop_stop()
        sender.disconnect()
        pub.stop(1.0)
    assert deadline_ok, (got, pub.control.invalid)
    kinds = [(m.kind, m.data["cmd"] if m.data else m.payload) for m in seen]
    assert kinds == [("config", b"signed-config-bytes"), ("cmd", "identify")]
    assert pub.control.invalid == 2


def _wait(pred: Any, timeout_s: float = 10.0) -> bool:
    import threading
    import time

    ev = threading.Event()
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            return False
        ev.wait(0.02)
    return True


def test_update_birth_republishes_the_retained_status(mosquitto: Broker, tmp_path: Path) -> None:
    watch = Subscriber(mosquitto.port, [DEVICE.status])
    pub = make_publisher(tmp_path / "s", mosquitto.url, FakeClock(0.0), health=False).start()
    try:
        _seen_status(watch, "online", 1)
        pub.update_birth(config_version=7, agent="agent-42")
        watch.wait_for(lambda m: any(x.json()["config_version"] == 7 for x in m), 10)
        doc = _retained_status(mosquitto.port)
    finally:
        pub.stop(2.0)
        watch.close()
    assert (doc["state"], doc["config_version"], doc["agent"]) == ("online", 7, "agent-42")
