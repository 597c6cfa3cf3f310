"""`poise demo` headless for a bounded time: every desk's windows reach the database with no seq
gaps, cues fire and reach the dashboard's floor view, and nothing is left running afterwards."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge.cli import main

REPO = Path(__file__).resolve().parents[2]
DESKS = 3
needs_tools = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or not Path("/usr/sbin/mosquitto").exists(),
    reason="espeak-ng and mosquitto come from scripts/bootstrap-system.sh",
)


def _groups_alive(pgids: list[int]) -> list[int]:
    """Processes still in any of the children's process groups (each child led its own)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@needs_tools
def test_demo_headless_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, db = tmp_path / "report.json", tmp_path / "collector.db"
    cmd = [
        sys.executable, "-m", "edge", "demo", "--headless",
        "--devices", str(DESKS), "--speed", "10", "--duration", "190",
        "--call-s", "80", "--gap-s", "65",
        "--report", str(report), "--keep-db", str(db),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dashboard:  http://127.0.0.1:" in done.stdout
    assert "log in as:  demo / " in done.stdout
    r = json.loads(report.read_text())

    # every desk's windows reached the database, with no seq gaps (the IT command says so)
    assert main(["collector", "gaps", "--db", f"sqlite:///{db}"]) == 0
    assert capsys.readouterr().out.startswith("no gaps")
    con = sqlite3.connect(db)
    per_desk = dict(
        con.execute("SELECT device, COUNT(*) FROM telemetry WHERE kind='metrics' GROUP BY device")
    )
    con.close()
    assert sorted(per_desk) == [f"desk-{i:02d}" for i in range(1, DESKS + 1)]
    assert min(per_desk.values()) >= 10  # 190 s of audio: ~19 windows of 10 s, plus call cuts

    # cues fired on the desks and were seen on the supervisor's floor view (dashboard API)
    seen = r["cues_on_floor"]
    assert sum(sum(c.values()) for c in seen.values()) >= DESKS
    assert {t["device"] for t in r["floor_tiles"]} == set(per_desk)

    # nothing left behind: children (and their groups) gone, ports free, directory removed
    stopped = r["stopped"]
    assert not Path(stopped["dir"]).exists()
    assert len(stopped["pids"]) == 3  # mosquitto, collector, desks
    assert _groups_alive(stopped["pids"]) == []
    assert all(_port_free(p) for p in stopped["ports"])


def test_demo_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--devices", "0"]) == 2
    assert "poise: error: --devices must be 1-64" in capsys.readouterr().err
    assert main(["demo", "--speed", "0"]) == 2
