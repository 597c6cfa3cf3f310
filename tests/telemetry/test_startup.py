"""Startup: ids with wildcards or slashes are refused with one error line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _refused(tmp_path: Path, *args: str) -> str:
    """``poise edge run ARGS --cue none --source wav:<missing>`` in a child process; asserts it
    exits 2 with one ``poise: error:`` line and returns that line."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge",
            "edge",
            "run",
            *args,
            "--cue",
            "none",
            "--source",
            f"wav:{tmp_path / 'none.wav'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("poise: error: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    "setting",
    ["telemetry.device=desk/1", "telemetry.site=site+1", "telemetry.device=#", "telemetry.site=A"],
)
def test_bad_ids_are_refused_at_startup(setting: str, tmp_path: Path) -> None:
    line = _refused(
        tmp_path,
        "--mqtt",
        "mqtt://127.0.0.1:1",
        "--set",
        setting,
        "--set",
        f'telemetry.state_dir="{tmp_path}"',
    )
    assert "is not valid" in line and setting.split("=")[0] in line
    assert not (tmp_path / "boot").exists()  # refused before anything was started


@pytest.mark.parametrize("url", ["http://x:1", "mqtt://u:p@h:1", "mqtt://h:1/topic"])
def test_bad_broker_url_is_refused_at_startup(url: str, tmp_path: Path) -> None:
    assert "broker URL" in _refused(tmp_path, "--mqtt", url)
