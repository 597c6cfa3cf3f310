"""``poise edge run`` with a bundle's device.toml: enrolls on first start, then the real device
loop publishes over mTLS to the fleet's mosquitto; a second start reuses the certificate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from broker.fleet.bundle import write_bundle
from broker.fleet.fleet import Fleet
from edge.cli import main
from edge.simulate.speech import silence, speech_block, stereo, write_wav
from edge.telemetry.topics import DeviceTopics
from tests.fleet.conftest import watch_device
from tests.support.edge_call import needs_espeak
from tests.support.mosquitto import Broker

pytestmark = needs_espeak


def test_edge_run_enrolls_and_publishes_over_mtls(
    fleet: Fleet, fleet_broker: Broker, enroll_server: str, tmp_path: Path
) -> None:
    agent = np.concatenate([speech_block(6.0, seed=2, gap_s=0.4), silence(2.0)])
    wav = write_wav(tmp_path / "call.wav", stereo(agent, silence(8.0)))
    fleet.add("desk-8", "hq", "8")
    boot = tmp_path / "boot"
    write_bundle(fleet, "desk-8", boot)
    b, var = boot / "poise", tmp_path / "var"
    args = [
        "edge",
        "run",
        "--config",
        str(b / "device.toml"),
        "--source",
        f"wav:{wav}",
        "--cue",
        "none",
    ]
    for setting in (
        f'telemetry.ca_file="{b / "fleet-ca.crt"}"',
        f'telemetry.cert_file="{var / "fleet" / "device.crt"}"',
        f'telemetry.key_file="{var / "fleet" / "device.key"}"',
        f'telemetry.state_dir="{var / "telemetry"}"',
        f'fleet.signing_keys="{b / "fleet-signing.pub"}"',
        f'fleet.token_file="{b / "enroll.token"}"',
        f'fleet.state_dir="{var / "fleet"}"',
        f'baseline.state_file="{var / "baseline.json"}"',
        "model.enabled=false",
    ):
        args += ["--set", setting]
    topics = DeviceTopics("hq", "desk-8")
    adm = watch_device(fleet, topics, "t-adm")
    try:
        assert main(args) == 0
        assert fleet.device("desk-8").state == "enrolled"
        assert not (b / "enroll.token").exists()

        def statuses(m: list[tuple[str, bytes]]) -> list[str]:
            return [json.loads(p)["state"] for t, p in m if t == topics.status]

        assert adm.wait_for(lambda m: statuses(m) == ["online", "offline"]), adm.messages
        assert any(t == topics.metrics for t, _ in adm.messages)
        serial = fleet.device("desk-8").cert_serial
        assert main(args) == 0  # second start: no token needed, same certificate
        assert fleet.device("desk-8").cert_serial == serial
        assert adm.wait_for(lambda m: statuses(m).count("offline") == 2), adm.messages
    finally:
        adm.stop()
