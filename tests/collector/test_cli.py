"""``poise collector`` and ``poise broker`` command lines, settings and the rendered templates."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from broker.collector.settings import load_settings
from broker.mosquitto.config import TEMPLATES
from broker.storage import open_store
from edge.errors import ConfigError
from tests.collector.helpers import REPO, running
from tests.collector.test_storage import msg
from tests.support.ports import free_port, wait_listening


def poise(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_settings_file_and_overrides(tmp_path: Path) -> None:
    f = tmp_path / "collector.toml"
    f.write_text(
        '[mqtt]\nurl = "mqtt://u:p@broker.local:1884"\ngroup = "east"\n'
        "[ingest]\nbatch_max = 500\n[maintenance.retention]\nraw_days = 7.0\n",
        encoding="utf-8",
    )
    s = load_settings(f, db="sqlite:///tmp/x.db", http="0.0.0.0:9200")
    assert (s.mqtt.url, s.mqtt.group, s.ingest.batch_max) == (
        "mqtt://u:p@broker.local:1884",
        "east",
        500,
    )
    assert s.maintenance.retention.raw_days == 7.0 and s.database.url == "sqlite:///tmp/x.db"
    assert s.http.address() == ("0.0.0.0", 9200) and s.mqtt.password() == "p"
    f.write_text("[mqtt]\ngroupp = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown setting mqtt\.groupp"):
        load_settings(f)
    with pytest.raises(ConfigError, match="MQTT URL"):
        load_settings(None, mqtt="http://x")
    with pytest.raises(ConfigError, match="share group"):
        load_settings(None, mqtt="mqtt://h").__class__(mqtt=type(s.mqtt)(group="a/b"))


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = poise("collector", "gaps", "--db", "mysql://nope")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert r.stderr.startswith("poise: error: database URL must start with")
    r = poise("collector", "run", "--mqtt", "tcp://x", "--db", f"sqlite://{tmp_path / 'x.db'}")
    assert r.returncode == 2 and r.stderr.startswith("poise: error: MQTT URL")
    r = poise("collector", "gaps", "--db", "postgresql://nobody@127.0.0.1:1/x")
    assert r.returncode == 2 and r.stderr.startswith("poise: error: cannot connect")


def test_gaps_command_lists_missing_ranges(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'c.db'}"
    st = open_store(url)
    st.write([msg("desk-1", 2, s) for s in (0, 1, 5, 6, 9)] + [msg("desk-2", 1, 0)])
    st.close()
    r = poise("collector", "gaps", "--db", url)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["desk-1", "2", "2-4", "3"]
    assert lines[2].split() == ["desk-1", "2", "7-8", "2"]
    assert lines[-1] == "2 gap(s), 5 messages missing"
    r = poise("collector", "gaps", "--db", url, "--device", "desk-2")
    assert r.stdout.startswith("no gaps")


def test_example_settings_file_is_current_and_loads() -> None:
    from broker.collector.settings_docs import EXAMPLE_DB, render

    path = REPO / "docs" / "collector.example.toml"
    assert path.read_text("utf-8") == render()
    assert load_settings(path).database.url == EXAMPLE_DB


def test_reference_templates_match_the_renderer() -> None:
    for name, render in TEMPLATES.items():
        assert (REPO / "broker" / "mosquitto" / name).read_text("utf-8") == render(), name


def test_broker_run_starts_mosquitto_with_passwords(tmp_path: Path) -> None:
    port = free_port()
    if os.geteuid() == 0:  # pytest's tmp dirs are 0700: the dropped mosquitto could not enter
        r = poise("broker", "run", "--dir", str(tmp_path / "b"), "--port", str(port))
        assert r.returncode == 2 and "cannot enter" in r.stderr
        base = Path(tempfile.mkdtemp(prefix="poise-broker-test-"))
        base.chmod(0o755)
        tmp_path = base
    d = tmp_path / "broker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge", "broker", "run", "--dir", str(d), "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_listening(port, 20)
        creds = dict(line.split() for line in (d / "credentials").read_text().splitlines())
        if os.geteuid() == 0:  # mosquitto dropped to its user: its files must be its own
            import pwd

            owner = pwd.getpwuid((d / "passwd").stat().st_uid).pw_name
            assert owner == "mosquitto"

        def connect(user: str, password: str) -> bool:
            result = threading.Event()
            ok = []
            c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            c.username_pw_set(user, password)

            def on_connect(cl: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
                ok.append(not rc.is_failure)  # type: ignore[attr-defined]
                result.set()

            c.on_connect = on_connect
            c.connect("127.0.0.1", port)
            c.loop_start()
            result.wait(10)
            c.disconnect()
            c.loop_stop()
            return bool(ok and ok[0])

        assert connect("collector", creds["collector"]) is True
        assert connect("collector", "wrong") is False
        # the collector itself, with the URL the command printed
        s = load_settings(
            None,
            mqtt=f"mqtt://collector:{creds['collector']}@127.0.0.1:{port}",
            db=f"sqlite://{tmp_path / 'c.db'}",
            http="",
        )
        with running(s) as c:
            assert c.health()["mqtt_connected"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        if os.geteuid() == 0:
            shutil.rmtree(tmp_path, ignore_errors=True)
    assert proc.returncode == 0, err
    assert f"mqtt://collector:{creds['collector']}@127.0.0.1:{port}" in out
