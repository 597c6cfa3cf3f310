"""`poise simulate --metrics-only` through real Mosquitto into the collector: every device's
birth and shutdown status, persisted boots, one gap-free seq space per boot."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from edge.cli import main
from tests.support.mosquitto import BrokerFactory

REPO = Path(__file__).resolve().parents[2]


def _collector(tmp: Path, url: str, db: Path) -> subprocess.Popen[bytes]:
    """``poise collector run``, returned once its /healthz says it is connected."""
    from broker.demo.system import free_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "edge", "collector", "run"]
    args = ["--mqtt", url, "--db", f"sqlite:///{db}", "--http", f"127.0.0.1:{port}"]
    proc = subprocess.Popen([*cmd, *args], env=env, cwd=tmp)
    end = time.monotonic() + 30
    while time.monotonic() < end and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the collector did not become healthy")


def _wait_rows(db: Path, want: int, timeout_s: float = 30.0) -> int:
    end = time.monotonic() + timeout_s
    n = -1
    while time.monotonic() < end:
        if db.exists():
            try:
                con = sqlite3.connect(db)
                n = con.execute("SELECT COUNT(*) FROM status_log").fetchone()[0]
                con.close()
            except sqlite3.Error:
                n = -1
            if n >= want:
                return int(n)
        time.sleep(0.2)
    return n


def test_metrics_only_devices_store_gap_free_with_birth_will_and_boots(
    broker_factory: BrokerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = broker_factory().start()
    db, state = tmp_path / "c.db", tmp_path / "state"
    coll = _collector(tmp_path, broker.url, db)
    try:
        n = 40
        for _ in range(2):  # two runs: the second is every device's boot 2
            rc = main([
                "simulate", "--metrics-only", "--devices", str(n), "--mqtt", broker.url,
                "--speed", "30", "--duration", "90", "--processes", "2",
                "--state-dir", str(state), "--site", "bench",
            ])  # fmt: skip
            assert rc == 0
        # birth + shutdown per device per run
        assert _wait_rows(db, 4 * n) >= 4 * n
    finally:
        coll.terminate()
        coll.wait(30)
    capsys.readouterr()
    assert main(["collector", "gaps", "--db", f"sqlite:///{db}"]) == 0
    assert capsys.readouterr().out.startswith("no gaps")
    con = sqlite3.connect(db)
    boots = con.execute("SELECT device, MIN(boot), MAX(boot), MIN(seq) FROM telemetry GROUP BY 1")
    rows = boots.fetchall()
    states = con.execute("SELECT state, COUNT(*) FROM status_log GROUP BY state").fetchall()
    kinds = dict(con.execute("SELECT kind, COUNT(*) FROM telemetry GROUP BY kind").fetchall())
    offline = con.execute("SELECT COUNT(*) FROM devices WHERE online = 0").fetchone()[0]
    con.close()
    assert len(rows) == n
    assert all(lo == 1 and hi == 2 and first == 0 for _, lo, hi, first in rows)
    assert dict(states) == {"online": 2 * n, "offline": 2 * n}
    assert kinds["metrics"] > n and kinds["health"] >= 2 * n and kinds["events"] >= n
    assert offline == n  # every device ended with its retained shutdown status


def test_simulate_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--mqtt", "mqtt://u:p@127.0.0.1:1883"]) == 2
    assert "credentials" in capsys.readouterr().err
    assert main(["simulate", "--mqtt", "mqtt://127.0.0.1:1", "--devices", "0"]) == 2
    assert main(["simulate", "--mqtt", "mqtt://127.0.0.1:1", "--site", "a/b"]) == 2
