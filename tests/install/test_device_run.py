"""``poise edge run`` as a new user runs it: mono replay, the packaged model from any working
directory, a missing configured model, the state directory the OS expects."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from edge.cli import main
from edge.settings.paths import baseline_state_file, state_dir
from tests.install.conftest import error_line, tone_call
from tests.support.agents import saved_agents

REPO = Path(__file__).resolve().parents[2]


def test_mono_wav_is_the_agent_and_far_end_detectors_are_off(tmp_path, caplog):
    wav = tone_call(tmp_path / "mono.wav", seconds=3.0, channels=1)
    events = tmp_path / "ev.jsonl"
    state = tmp_path / "state.json"
    with caplog.at_level(logging.INFO):
        rc = main(
            [
                "edge",
                "run",
                "--source",
                f"wav:{wav}",
                "--cue",
                "none",
                "--events",
                str(events),
                "--set",
                f'baseline.state_file="{state}"',
                "--set",
                "model.enabled=false",
                "--set",
                'baseline.agent="ann"',
            ]
        )
    assert rc == 0
    assert "far-end detectors off for this run: overtalk, dead_air, empathy" in caplog.text
    running = next(r.getMessage() for r in caplog.records if "detectors running" in r.message)
    assert "pace" in running and "overtalk" not in running and "empathy" not in running
    assert "processed 3.0 s of audio" in caplog.text
    assert list(saved_agents(state)) == ["ann"]


def test_packaged_model_is_found_from_any_working_directory(tmp_path):
    wav = tone_call(tmp_path / "call.wav", seconds=2.0)
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_STATE_HOME": str(tmp_path / "xdg")}
    env.pop("STATE_DIRECTORY", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge",
            "-v",
            "edge",
            "run",
            "--source",
            f"wav:{wav}",
            "--cue",
            "none",
            "--set",
            'baseline.agent="ann"',
        ],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    running = next(x for x in proc.stderr.splitlines() if "detectors running" in x)
    assert "stress" in running and "empathy" in running
    assert "stress and empathy are off" not in proc.stderr
    assert list(saved_agents(tmp_path / "xdg" / "poise" / "baseline.json")) == ["ann"]


def test_missing_configured_model_is_a_startup_error_unless_policy_needs_none(capsys, tmp_path):
    wav = tone_call(tmp_path / "call.wav", seconds=1.0)
    base = [
        "edge",
        "run",
        "--source",
        f"wav:{wav}",
        "--cue",
        "none",
        "--set",
        f'baseline.state_file="{tmp_path / "s.json"}"',
        "--set",
        f'model.path="{tmp_path / "gone.tflite"}"',
    ]
    line = error_line(capsys, base)
    assert "gone.tflite" in line and "model.enabled=false" in line
    assert not (tmp_path / "s.json").exists()
    policy = [
        "--set",
        'policy.stress="off"',
        "--set",
        'policy.detectors=["pace","flat","overtalk","monologue","dead_air"]',
    ]
    assert main([*base, *policy]) == 0


def test_state_dir_systemd_then_xdg_then_home():
    assert state_dir({"STATE_DIRECTORY": "/var/lib/poise:/var/lib/other"}) == Path("/var/lib/poise")
    assert state_dir({"XDG_STATE_HOME": "/x/state", "HOME": "/h"}) == Path("/x/state/poise")
    assert state_dir({"XDG_STATE_HOME": "relative", "HOME": "/h"}) == Path("/h/.local/state/poise")
    assert state_dir({"HOME": "/home/ana"}) == Path("/home/ana/.local/state/poise")
    assert baseline_state_file(None, {"HOME": "/h"}) == Path("/h/.local/state/poise/baseline.json")
    assert baseline_state_file(Path("/etc/x.json"), {}) == Path("/etc/x.json")
