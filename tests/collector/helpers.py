"""Helpers for the collector tests: settings for a test broker, running collectors, waiting."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from broker.collector.service import Collector
from broker.collector.settings import CollectorSettings, HttpSettings, IngestSettings, MqttSettings
from broker.storage import SqlStore, open_store
from tests.support.ports import free_port, wait_listening

REPO = Path(__file__).resolve().parents[2]
_ids = itertools.count()


def settings_for(
    port: int, db_url: str, client_id: str | None = None, shared: bool = True, **ingest: Any
) -> CollectorSettings:
    s = CollectorSettings()
    return replace(
        s,
        mqtt=MqttSettings(
            url=f"mqtt://127.0.0.1:{port}",
            client_id=client_id or f"test-collector-{os.getpid()}-{next(_ids)}",
            keepalive_s=5,
            shared=shared,
        ),
        database=replace(s.database, url=db_url),
        ingest=replace(IngestSettings(), **ingest),
        http=HttpSettings(""),
    )


@contextlib.contextmanager
def running(settings: CollectorSettings, store: SqlStore | None = None) -> Iterator[Collector]:
    st = store or open_store(settings.database.url)
    c = Collector(settings, st)
    c.start()
    try:
        if not c.mqtt.connected.wait(10):
            raise TimeoutError("collector did not connect")
        yield c
    finally:
        c.stop()
        if store is None:
            st.close()


def wait_until(pred: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``pred`` (a real event: rows in a database) until true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout_s} s")
        time.sleep(0.05)


def rows(db_url: str) -> dict[str, int]:
    st = open_store(db_url)
    try:
        return st.counts()
    finally:
        st.close()


def gaps(db_url: str) -> list[Any]:
    st = open_store(db_url)
    try:
        return st.gaps()
    finally:
        st.close()


class CollectorProcess:
    """``poise collector run`` in a child process (so it can be SIGKILLed)."""

    def __init__(self, mqtt_url: str, db_url: str, workdir: Path, client_id: str) -> None:
        self.http_port = free_port()
        conf = workdir / f"{client_id}.toml"
        conf.write_text(f'[mqtt]\nclient_id = "{client_id}"\nkeepalive_s = 5\n', encoding="utf-8")
        self.argv = [
            sys.executable,
            "-m",
            "edge",
            "collector",
            "run",
            "--config",
            str(conf),
            "--mqtt",
            mqtt_url,
            "--db",
            db_url,
            "--http",
            f"127.0.0.1:{self.http_port}",
        ]
        self.log = workdir / f"{client_id}.log"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> CollectorProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(  # in workdir: what it writes by default stays there
            self.argv,
            cwd=self.workdir,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_listening(self.http_port, 30)
        wait_until(lambda: self.health().get("mqtt_connected") is True, 30, "collector connected")
        return self

    def health(self) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.http_port}/healthz", timeout=5
            ) as r:
                return dict(json.loads(r.read()))
        except urllib.error.HTTPError as e:
            return dict(json.loads(e.read()))
        except OSError:
            return {}

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5) as r:
            return str(r.read().decode())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(30)
        return int(self.proc.returncode)
