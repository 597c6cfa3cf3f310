"""The unit as IT installs it (issue #10): build the wheel from the checkout, run
hw/install/install.sh into a staging root (a fresh venv outside the checkout, offline from the
wheelhouse `make wheelhouse` fills), verify the installed systemd unit, then run the installed
``poise edge run`` from ``/`` with the installed example config on a scripted call, as the unit
would (``$STATE_DIRECTORY`` set, no PYTHONPATH), and check that ``stress`` ran (the arousal model
scored the agent's speech) and the baseline was written to the state directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.simulate.speech import CUSTOMER_SENTENCES, silence, speech_block, stereo
from edge.simulate.speech import write_wav as write_call
from tests.support.agents import saved_agents
from tests.support.edge_call import needs_espeak

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / ".cache" / "wheelhouse"
INSTALL = REPO / "hw" / "install" / "install.sh"
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def _install(root: Path, wheel: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """install.sh of ``wheel`` into ``root`` from ``/``: a fresh venv, offline from the
    wheelhouse, with the system python."""
    return subprocess.run(
        [
            "bash",
            str(INSTALL),
            "--root",
            str(root),
            "--wheel",
            str(wheel),
            "--no-index",
            "--find-links",
            str(WHEELHOUSE),
            "--isolated-venv",
            "--python",
            str(SYSTEM_PYTHON),
        ],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not (WHEELHOUSE / ".complete").exists():
        pytest.fail("no wheelhouse for the clean-room install: run `make wheelhouse`")
    if SYSTEM_PYTHON is None:
        pytest.fail("no system python3")
    tmp = tmp_path_factory.mktemp("cleanroom")
    sys.path.insert(0, str(REPO / "hw" / "install"))
    try:
        from build_wheel import build
    finally:
        sys.path.pop(0)
    wheel = build(tmp / "dist")
    root = tmp / "root"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8"}
    proc = _install(root, wheel, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, tmp, proc.stdout


def test_install_lays_out_venv_config_udev_alsa_and_unit(installed):
    root, _, out = installed
    assert (root / "opt/poise/venv/bin/poise").is_file()
    config = (root / "etc/poise/device.toml").read_text()
    assert config == (REPO / "docs" / "device.example.toml").read_text()
    for rel in (
        "etc/udev/rules.d/90-poise-audio.rules",
        "etc/alsa/conf.d/50-poise.conf",
        "etc/sysusers.d/poise.conf",
        "etc/systemd/system/poise-edge.service",
    ):
        assert (root / rel).is_file(), rel
    unit = (root / "etc/systemd/system/poise-edge.service").read_text()
    assert "ExecStart=/opt/poise/venv/bin/poise edge run --config /etc/poise/device.toml" in unit
    assert "wrote /etc/poise/device.toml" in out
    # nothing of the checkout leaked into the venv
    site = next((root / "opt/poise/venv/lib").glob("python3*/site-packages"))
    assert not list(site.glob("__editable__*")) and not list(site.glob("*.egg-link"))
    assert (site / "models" / "prosody-v1.tflite").is_file()


def test_installed_unit_passes_systemd_analyze_verify(installed, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not available")
    root, _, _ = installed
    unit = (root / "etc/systemd/system/poise-edge.service").read_text()
    poise = root / "opt/poise/venv/bin/poise"
    # The staged ExecStart lives under the staging root; point the copy at it, so verify
    # checks the real installed executable.
    copy = tmp_path / "poise-edge.service"
    copy.write_text(unit.replace("/opt/poise/venv/bin/poise", str(poise)))
    proc = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_second_install_keeps_the_edited_config(installed):
    root, tmp, _ = installed
    cfg = root / "etc/poise/device.toml"
    text = cfg.read_text()
    cfg.write_text(text + "\n# edited by IT\n")
    wheel = next((tmp / "dist").glob("poise-*.whl"))
    proc = _install(root, wheel, {"PATH": "/usr/bin:/bin", "HOME": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    assert "kept the existing" in proc.stdout and cfg.read_text().endswith("# edited by IT\n")
    cfg.write_text(text)


@needs_espeak
def test_installed_edge_run_from_root_runs_stress_and_writes_the_baseline(installed, tmp_path):
    root, _, _ = installed
    agent = np.concatenate(
        [speech_block(14.0, seed=4, gap_s=0.3), silence(3.0), speech_block(8.0, seed=5)]
    )
    customer = np.concatenate(
        [
            silence(14.5),
            speech_block(2.5, seed=6, voice="en-us+f3", sentences=CUSTOMER_SENTENCES),
            silence(8.0),
        ]
    )
    wav = write_call(tmp_path / "call.wav", stereo(agent, customer))
    state = tmp_path / "state"
    state.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "STATE_DIRECTORY": str(state),
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
    }
    events = tmp_path / "events.jsonl"
    proc = subprocess.run(
        [
            str(root / "opt/poise/venv/bin/poise"),
            "-v",
            "edge",
            "run",
            "--config",
            str(root / "etc/poise/device.toml"),
            "--source",
            f"wav:{wav}",
            "--cue",
            "none",
            "--events",
            str(events),
        ],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    running = next(x for x in proc.stderr.splitlines() if "detectors running" in x)
    assert "stress" in running and "empathy" in running
    assert "stress and empathy are off" not in proc.stderr
    assert str(root / "opt/poise/venv") in proc.stderr  # the packaged model, not the checkout
    doc = saved_agents(state / "baseline.json")["voice-1"]["baseline"]  # a new voice
    assert len(doc["arousal"]["logits"]) > 5  # the model scored the agent's speech windows
    assert [json.loads(x)["kind"] for x in events.read_text().splitlines()]
