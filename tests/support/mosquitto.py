"""A real ``mosquitto`` broker on a free loopback port, started (and killed) by the tests.

``Broker`` writes a config into its own directory, starts ``mosquitto -c`` there, waits until
it listens, and can be SIGKILLed and restarted on the same port (with persistence on, queued QoS 1
messages and persistent sessions survive). ``extra`` lines are appended to the config (TLS
listeners, bridges, ACLs). The ``mosquitto`` fixture gives a plain anonymous loopback broker;
``broker_factory`` makes as many as a test needs. Everything is stopped at teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port, wait_listening

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """One mosquitto process and its directory."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        persistence: bool = True,
        extra: list[str] | None = None,
        listener: bool = True,
    ) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else free_port()
        self.persistence = persistence
        self.extra = list(extra or [])
        self.listener = listener
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        lines = [
            "user root",
            f"log_dest file {self.dir / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "per_listener_settings false",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "persistent_client_expiration 1h",
        ]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.dir}/",
                "autosave_interval 1",
                "autosave_on_changes false",
            ]
        if self.listener:
            lines += [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        lines += self.extra
        return "\n".join(lines) + "\n"

    def start(self, timeout_s: float = 10.0) -> Broker:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("broker already running")
        conf = self.dir / "mosquitto.conf"
        conf.write_text(self.config_text(), encoding="utf-8")
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "stderr.log").open("ab"),
            start_new_session=True,
        )
        try:
            if self.listener:
                wait_listening(self.port, timeout_s)
        except TimeoutError:
            self.kill()
            raise RuntimeError(f"mosquitto did not start:\n{self.log()}") from None
        return self

    def kill(self) -> None:
        """SIGKILL (no clean shutdown: what a power cut or OOM kill does)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM and wait (saves persistence)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def reload(self) -> None:
        """SIGHUP: re-read the config (ACLs, password file, CRL for new connections)."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGHUP)

    def restart(self, timeout_s: float = 10.0) -> Broker:
        self.kill()
        return self.start(timeout_s)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        parts = []
        for name in ("mosquitto.log", "stderr.log"):
            p = self.dir / name
            if p.exists():
                parts.append(p.read_text(encoding="utf-8", errors="replace")[-4000:])
        return "\n".join(parts)


class BrokerFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.brokers: list[Broker] = []

    def __call__(self, **kwargs: object) -> Broker:
        b = Broker(self.root / f"broker{len(self.brokers)}", **kwargs)  # type: ignore[arg-type]
        self.brokers.append(b)
        return b

    def close(self) -> None:
        for b in self.brokers:
            b.stop()


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[BrokerFactory]:
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed (scripts/bootstrap-system.sh installs it)")
    f = BrokerFactory(tmp_path / "mosquitto")
    try:
        yield f
    finally:
        f.close()


@pytest.fixture
def mosquitto(broker_factory: BrokerFactory) -> Broker:
    """A started anonymous loopback broker with persistence."""
    return broker_factory().start()
