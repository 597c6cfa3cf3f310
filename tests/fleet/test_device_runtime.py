"""A unit from its bundle: first start enrolls, the telemetry publisher's one mTLS connection
carries the fleet's config and cmd, actions run on the audio thread, revoke cuts it off."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from broker.fleet.bundle import write_bundle
from broker.fleet.fleet import Fleet
from broker.fleet.pushes import config_set
from edge import __version__
from edge.device.cue_sink import CueSink
from edge.device.pipeline import Pipeline
from edge.fleet.device import FleetRuntime
from edge.protocols import MonotonicClock
from edge.settings import load_settings
from edge.telemetry.control import BirthInfo
from edge.telemetry.publisher import Publisher
from edge.telemetry.topics import DeviceTopics
from tests.fleet.conftest import WAIT_S, watch_device
from tests.support.mosquitto import Broker


class Cue:
    """The cue output behind the real CueSink (what the sink's thread would drive)."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def show(self, cue: str, style: Any) -> None:
        self.shown.append(cue)

    def clear(self) -> None:
        self.shown.append("clear")

    def tick(self, now: float) -> None:
        pass

    def close(self) -> None:
        pass


def _until(pred: Any, what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)  # polling a real event (a message from the broker), bounded


def test_unit_from_bundle_enrolls_and_follows_the_fleet(
    fleet: Fleet, fleet_broker: Broker, enroll_server: str, tmp_path: Path
) -> None:
    fleet.add("desk-5", "hq", "5")
    boot = tmp_path / "boot"
    write_bundle(fleet, "desk-5", boot)
    var = tmp_path / "var"
    b = boot / "poise"
    settings = load_settings(
        b / "device.toml",
        [
            f'telemetry.ca_file="{b / "fleet-ca.crt"}"',
            f'telemetry.cert_file="{var / "fleet" / "device.crt"}"',
            f'telemetry.key_file="{var / "fleet" / "device.key"}"',
            f'telemetry.state_dir="{var / "telemetry"}"',
            f'fleet.signing_keys="{b / "fleet-signing.pub"}"',
            f'fleet.token_file="{b / "enroll.token"}"',
            f'fleet.state_dir="{var / "fleet"}"',
        ],
    )
    runtime = FleetRuntime.start(settings, time.time)
    assert runtime.identity.enrolled and not (b / "enroll.token").exists()
    assert (var / "fleet" / "device.key").stat().st_mode & 0o777 == 0o600
    topics = DeviceTopics("hq", "desk-5")
    adm = watch_device(fleet, topics, "t-admin")
    birth = BirthInfo(__version__, None, runtime.agent.config.version or None, "default", ())
    pub = Publisher.open(settings.telemetry, birth, MonotonicClock(), time.time)
    runtime.attach(pub)
    pub.start()
    try:
        assert pub.wait_connected(WAIT_S)
        assert adm.wait_for(lambda m: any(t == topics.status for t, _ in m))
        assert fleet.sync_status() == 1  # `poise fleet list --live`
        d = fleet.device("desk-5")
        assert d.last_seen is not None and d.software == __version__
        config_set(
            fleet,
            device="desk-5",
            assignments=[
                "budget.min_gap_s=42.0",
                "detectors.overtalk.enter=0.9",
                "cues.brightness=0.2",
            ],
        )
        _until(lambda: runtime.agent.config.version > 0, "config never applied")
        # the MQTT thread applies the version, then queues the live part for poll()
        _until(lambda: not runtime.live.empty(), "live settings never queued")
        assert runtime.agent.last_config is not None
        assert runtime.agent.last_config.live == ("budget.min_gap_s", "detectors.overtalk.enter")
        assert runtime.agent.report()["pending_restart"] == ["cues.brightness"]
        pipeline = Pipeline(settings)
        styles_sink = CueSink(Cue(), settings.cues.styles)
        runtime.poll(0.0, lambda e: None, lambda: None, pipeline, styles_sink)
        assert pipeline.arbiter.budget.min_gap_s == 42.0
        assert pipeline.drifts["overtalk"].settings.enter == 0.9
        # ... and at the next start the whole config is in force.
        assert runtime.effective_settings(settings).cues.brightness == 0.2
        # the retained status says which config version is in force now
        assert adm.wait_for(
            lambda m: any(t == topics.status and json.loads(p)["config_version"] == 1 for t, p in m)
        )
        fleet.identify("desk-5", 5)
        fleet.send_cmd("desk-5", "recalibrate")
        resets: list[int] = []
        cue = Cue()
        sink = CueSink(cue, settings.cues.styles)
        _until(lambda: runtime.actions.q.qsize() == 2, "cmds never arrived")
        runtime.poll(100.0, sink.handle, lambda: resets.append(1))  # on the audio thread
        assert cue.shown == ["identify"] and resets == [1]
        runtime.poll(104.0, sink.handle, lambda: None)
        assert cue.shown == ["identify"]
        runtime.poll(105.0, sink.handle, lambda: None)
        assert cue.shown == ["identify", "clear"]
        # Revoked: the session ends and the publisher cannot get back in.
        connects = pub.stats.connects
        fleet.revoke("desk-5")
        _until(lambda: not pub.connected, "revoked unit still connected")
        attempts = pub.stats.connect_attempts
        _until(lambda: pub.stats.connect_attempts >= attempts + 2, "no reconnect attempt", 30)
        assert pub.stats.connects == connects  # every reconnect refused (CRL)
    finally:
        pub.stop(drain_timeout_s=0.5)
        runtime.close()
        adm.stop()


def test_unreachable_fleet_at_first_boot_enrolls_later(
    fleet: Fleet, enroll_server: str, tmp_path: Path
) -> None:
    from edge.fleet.enroll import EnrollError, HttpsTransport

    fleet.add("desk-6", "hq", "6")
    boot = tmp_path / "boot"
    write_bundle(fleet, "desk-6", boot)
    b, var = boot / "poise", tmp_path / "var"
    settings = load_settings(
        b / "device.toml",
        [
            f'telemetry.ca_file="{b / "fleet-ca.crt"}"',
            f'telemetry.cert_file="{var / "device.crt"}"',
            f'telemetry.key_file="{var / "device.key"}"',
            f'fleet.signing_keys="{b / "fleet-signing.pub"}"',
            f'fleet.token_file="{b / "enroll.token"}"',
            f'fleet.state_dir="{var / "fleet"}"',
        ],
    )
    real = HttpsTransport(enroll_server, b / "fleet-ca.crt")
    calls: list[str] = []

    class Flaky:
        def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
            calls.append(path)
            if len(calls) < 3:
                raise EnrollError("network unreachable")
            return real.post(path, body)

    runtime = FleetRuntime.start(settings, time.time, transport=Flaky())
    assert not runtime.identity.enrolled  # the loop runs locally meanwhile
    runtime.start_renewals(retry_s=0.01)
    try:
        _until(lambda: runtime.identity.enrolled, "never enrolled")
        assert fleet.device("desk-6").state == "enrolled" and len(calls) >= 3
    finally:
        runtime.close()


def test_refused_token_is_one_clear_error(fleet: Fleet, enroll_server: str, tmp_path: Path) -> None:
    import pytest

    from edge.fleet.enroll import EnrollRefusedError

    fleet.add("desk-7", "hq", "7")
    boot = tmp_path / "boot"
    write_bundle(fleet, "desk-7", boot)
    b, var = boot / "poise", tmp_path / "var"
    (b / "enroll.token").write_text("x" * 43)
    settings = load_settings(
        b / "device.toml",
        [
            f'telemetry.ca_file="{b / "fleet-ca.crt"}"',
            f'telemetry.cert_file="{var / "device.crt"}"',
            f'telemetry.key_file="{var / "device.key"}"',
            f'fleet.signing_keys="{b / "fleet-signing.pub"}"',
            f'fleet.token_file="{b / "enroll.token"}"',
            f'fleet.state_dir="{var / "fleet"}"',
        ],
    )
    with pytest.raises(EnrollRefusedError, match="403"):
        FleetRuntime.start(settings, time.time)
