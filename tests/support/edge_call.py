"""One call through the real device loop to a real broker, shared by the end-to-end MQTT tests.

:func:`e2e_call_wav` (a session fixture) writes a two-channel espeak-ng call (14 s of agent speech,
the customer answering at 14.3 s); :func:`edge_run_mqtt` replays a WAV with ``poise edge run
--source wav:FILE --cue none --mqtt URL`` with its baseline and outbox in a test's own folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from edge.simulate.speech import (
    CUSTOMER_SENTENCES,
    have_espeak,
    silence,
    speech_block,
    stereo,
    write_wav,
)

needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng not installed")


@pytest.fixture(scope="session")
def e2e_call_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The call (agent, then the customer's answer) as a stereo WAV (agent left)."""
    agent = np.concatenate([speech_block(14.0, seed=1, gap_s=0.4), silence(5.0)])
    customer = np.concatenate(
        [silence(14.3), speech_block(4.0, seed=3, voice="en-us+f3", sentences=CUSTOMER_SENTENCES)]
    )
    path: Path = write_wav(tmp_path_factory.mktemp("wav") / "call.wav", stereo(agent, customer))
    return path


def edge_run_mqtt(wav: Path, tmp: Path, url: str, device: str, site: str, *settings: str) -> None:
    """``poise edge run`` of ``wav`` publishing to ``url`` as ``site``/``device`` (model off,
    state in ``tmp``; more ``--set`` settings after); asserts a clean exit (the outbox drained)."""
    args = ["edge", "run", "--source", f"wav:{wav}", "--cue", "none", "--mqtt", url]
    for setting in (
        f'baseline.state_file="{tmp / "baseline.json"}"',
        f'telemetry.state_dir="{tmp / "telemetry"}"',
        f"telemetry.device={device}",
        f"telemetry.site={site}",
        "model.enabled=false",
        *settings,
    ):
        args += ["--set", setting]
    assert main(args) == 0
