"""``poise edge run --mqtt``: the real device loop publishes to a real mosquitto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.scenario_audio import (
    CUSTOMER_SENTENCES,
    have_espeak,
    silence,
    speech_block,
    stereo,
    write_wav,
)
from edge.cli import main
from tests.support.mosquitto import Broker
from tests.support.mqtt_sub import Subscriber
from tests.telemetry.harness import assert_complete_in_order, outbox_depth, stream

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    agent = np.concatenate([speech_block(14.0, seed=1, gap_s=0.4), silence(5.0)])
    customer = np.concatenate(
        [silence(14.3), speech_block(4.0, seed=3, voice="en-us+f3", sentences=CUSTOMER_SENTENCES)]
    )
    path: Path = write_wav(tmp_path_factory.mktemp("wav") / "call.wav", stereo(agent, customer))
    return path


def _run(wav: Path, tmp: Path, url: str, *extra: str) -> None:
    args = ["edge", "run", "--source", f"wav:{wav}", "--cue", "none", "--mqtt", url]
    for setting in (
        f'baseline.state_file="{tmp / "baseline.json"}"',
        f'telemetry.state_dir="{tmp / "telemetry"}"',
        "telemetry.device=desk-1",
        "telemetry.site=site-1",
        "model.enabled=false",
        *extra,
    ):
        args += ["--set", setting]
    assert main(args) == 0


def test_edge_run_publishes_metrics_events_and_status(
    call_wav: Path, mosquitto: Broker, tmp_path: Path
) -> None:
    sub = Subscriber(mosquitto.port, ["poise/v1/+/+/+"])
    try:
        _run(call_wav, tmp_path, mosquitto.url)
        # a clean exit drained the outbox and left a retained offline/shutdown status
        msgs = sub.wait_for(
            lambda m: any(x.json().get("reason") == "shutdown" for x in m if "status" in x.topic),
            10,
        )
    finally:
        sub.close()
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
    call_wav: Path, mosquitto: Broker, tmp_path: Path
) -> None:
    mosquitto.stop()
    _run(call_wav, tmp_path, mosquitto.url)  # runs as without telemetry, messages kept
    waiting = outbox_depth(tmp_path / "telemetry")
    assert waiting > 0
    mosquitto.start()
    sub = Subscriber(mosquitto.port, ["poise/v1/+/+/+"])
    try:
        _run(call_wav, tmp_path, mosquitto.url)
        msgs = sub.wait_for(
            lambda m: any(x.json().get("reason") == "shutdown" for x in m if "status" in x.topic),
            10,
        )
    finally:
        sub.close()
    docs = stream(msgs)
    boot1 = {d["seq"] for d in docs if d["boot"] == 1}
    assert len(boot1) == waiting and boot1 == set(range(waiting))
    assert outbox_depth(tmp_path / "telemetry") == 0
