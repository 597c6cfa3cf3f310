"""The real device loop into the collector's database: ``poise edge run --source wav:FILE
--mqtt URL`` -> Mosquitto -> ``poise collector`` (the README's three commands, in a test)."""

from __future__ import annotations

from pathlib import Path

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
from tests.collector.helpers import running, settings_for, wait_until
from tests.support.mosquitto import Broker

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    agent = np.concatenate([speech_block(14.0, seed=1, gap_s=0.4), silence(5.0)])
    customer = np.concatenate(
        [silence(14.3), speech_block(4.0, seed=3, voice="en-us+f3", sentences=CUSTOMER_SENTENCES)]
    )
    path: Path = write_wav(tmp_path_factory.mktemp("wav") / "call.wav", stereo(agent, customer))
    return path


def edge_run(wav: Path, tmp: Path, url: str) -> None:
    args = ["edge", "run", "--source", f"wav:{wav}", "--cue", "none", "--mqtt", url]
    for setting in (
        f'baseline.state_file="{tmp / "baseline.json"}"',
        f'telemetry.state_dir="{tmp / "telemetry"}"',
        "telemetry.device=desk-7",
        "telemetry.site=floor-2",
        "telemetry.health_interval_s=0.05",
        "model.enabled=false",
    ):
        args += ["--set", setting]
    assert main(args) == 0


def test_edge_run_lands_in_the_collector_database(
    call_wav: Path, mosquitto: Broker, tmp_path: Path
) -> None:
    url = f"sqlite://{tmp_path / 'collector.db'}"
    with running(settings_for(mosquitto.port, url)) as c:
        edge_run(call_wav, tmp_path, mosquitto.url)  # a clean exit drains the outbox

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
