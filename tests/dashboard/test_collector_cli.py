"""``poise collector run --http`` serves the dashboard beside /metrics and /healthz."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from broker.accounts.store import AccountStore
from tests.support.mosquitto import Broker, broker_factory, mosquitto  # noqa: F401
from tests.support.ports import free_port, wait_listening

REPO = Path(__file__).resolve().parents[2]


def test_collector_run_serves_the_dashboard(mosquitto: Broker, tmp_path: Path) -> None:  # noqa: F811
    acc = AccountStore(tmp_path / "accounts.db", time.time)
    acc.add("root", "admin", "a long password")
    acc.close()
    conf = tmp_path / "collector.toml"
    conf.write_text(
        f'[mqtt]\nclient_id = "cli-test"\n'
        f'[dashboard]\naccounts_db = "{tmp_path / "accounts.db"}"\n',
        encoding="utf-8",
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge",
            "collector",
            "run",
            "--config",
            str(conf),
            "--mqtt",
            mosquitto.url,
            "--db",
            f"sqlite://{tmp_path / 'c.db'}",
            "--http",
            f"127.0.0.1:{port}",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_listening(port, 30)
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/login", timeout=10) as r:
            assert r.status == 200 and b'name="csrf"' in r.read()
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
            assert b"poise_collector" in r.read()
        try:
            urllib.request.urlopen(f"{base}/api/v1/floor", timeout=10)
            raise AssertionError("floor without a session")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert b"dashboard on http://127.0.0.1:" in out
