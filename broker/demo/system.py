"""The demo system: Mosquitto, the collector serving the dashboard, and simulated desks.

Everything lives in one temporary directory (broker config and data, the collector's database,
the accounts, each desk's state, the logs) that is removed when the demo ends; ports are free
loopback ports chosen at start. Children are supervised (:mod:`broker.demo.processes`): if one
dies the demo says which and stops the rest.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from broker.demo.processes import Supervisor

log = logging.getLogger(__name__)

SITE = "demo"
TEAMS = ("north", "south")
CALIBRATION_S = 60.0
"""Agent speech before relative cues (pace, flat, stress) may fire: 60 s in the demo (a unit
uses 180 s) so they show within the first calls."""


@dataclass(frozen=True)
class DemoOptions:
    """How the demo runs."""

    devices: int = 12
    """Simulated desks, each running the real device loop."""
    speed: float = 1.0
    """Simulated seconds per real second (1: real time)."""
    duration_s: float | None = None
    """Simulated seconds the desks run (None: until Ctrl-C)."""
    http_port: int = 0
    """Dashboard port (0: a free one)."""
    mqtt_port: int = 0
    """Broker port (0: a free one)."""
    call_s: float = 150.0
    """Typical call length (simulated seconds)."""
    gap_s: float = 75.0
    """Silence between calls (simulated seconds; above calls.end_silence_s, 60 s)."""
    corpus: str | None = None
    """``emodb:DIR`` / ``ravdess:DIR``: stressed stretches from acted speech."""
    overrides: tuple[str, ...] = ()
    """Extra device settings for every desk."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _mosquitto() -> str:
    from edge.errors import ConfigError

    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise ConfigError("mosquitto not found (make demo installs it; apt-get install mosquitto)")
    return found


def _espeak() -> None:
    from edge.errors import ConfigError

    if shutil.which("espeak-ng") is None:
        raise ConfigError("espeak-ng not found (make demo installs it; apt-get install espeak-ng)")


@dataclass
class DemoSystem:
    """Starts, watches and stops the demo; ``dir`` exists between :meth:`start` and :meth:`stop`."""

    options: DemoOptions
    dir: Path = field(default_factory=lambda: Path())
    supervisor: Supervisor | None = None
    mqtt_port: int = 0
    http_port: int = 0
    logins: dict[str, str] = field(default_factory=dict)
    """Demo accounts: name -> password (admin ``demo``, supervisor ``floor``)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.dir / 'collector.db'}"

    def start(self, timeout_s: float = 60.0) -> None:
        mosquitto = _mosquitto()
        _espeak()
        self.dir = Path(tempfile.mkdtemp(prefix="poise-demo-"))
        self.dir.chmod(0o711)  # mosquitto drops to its own user and must reach its directory
        (self.dir / "logs").mkdir()
        (self.dir / "tmp").mkdir()
        self.supervisor = Supervisor(self.dir / "logs")
        try:
            self._start(mosquitto, timeout_s)
        except BaseException:
            self.stop()
            raise

    def _py(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "edge", *args]

    def _start(self, mosquitto: str, timeout_s: float) -> None:
        from edge.commands.broker import prepare

        assert self.supervisor is not None
        o = self.options
        self.mqtt_port = o.mqtt_port or free_port()
        self.http_port = o.http_port or free_port()
        conf, creds = prepare(self.dir / "broker", self.mqtt_port)
        for user, pw in creds.items():
            path = self.dir / f"{user}.password"
            path.write_text(pw + "\n", encoding="utf-8")
            path.chmod(0o600)
        self.supervisor.start("mosquitto", [mosquitto, "-c", str(conf)])
        self._wait(lambda: port_open(self.mqtt_port), timeout_s, "mosquitto")
        self._write_config()
        self._add_users()
        env = dict(os.environ, TMPDIR=str(self.dir / "tmp"))
        self.supervisor.start(
            "collector", self._py("collector", "run", "--config", self._conf), env=env
        )
        self._wait(self._healthy, timeout_s, "the collector")
        sim = self._py(
            "simulate",
            "--devices", str(o.devices),
            "--mqtt", f"mqtt://127.0.0.1:{self.mqtt_port}",
            "--username", "device",
            "--password-file", str(self.dir / "device.password"),
            "--site", SITE,
            "--speed", f"{o.speed:g}",
            "--state-dir", str(self.dir / "desks"),
            "--call-s", f"{o.call_s:g}",
            "--gap-s", f"{o.gap_s:g}",
            "--set", f"baseline.calibration_speech_s={CALIBRATION_S:g}",
        )  # fmt: skip
        if o.duration_s is not None:
            sim += ["--duration", f"{o.duration_s:g}"]
        if o.corpus:
            sim += ["--corpus", o.corpus]
        for s in o.overrides:
            sim += ["--set", s]
        # children's temporary files (espeak-ng voices, ...) land inside the demo directory
        env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(self.dir / "tmp"))
        self.supervisor.start("desks", [*sim[:3], "-v", *sim[3:]], env=env)

    @property
    def _conf(self) -> str:
        return str(self.dir / "collector.toml")

    def _write_config(self) -> None:
        d = self.dir
        desks = "".join(
            f'[desks.desk-{i:02d}]\nsite = "{SITE}"\nname = "Desk {i}"\n'
            f'team = "{TEAMS[(i - 1) % len(TEAMS)]}"\nagent = "agent-{i:02d}"\n\n'
            for i in range(1, self.options.devices + 1)
        )
        (d / "desks.toml").write_text(desks, encoding="utf-8")
        (d / "collector.toml").write_text(
            "[mqtt]\n"
            f'url = "mqtt://collector@127.0.0.1:{self.mqtt_port}"\n'
            f'password_file = "{d / "collector.password"}"\n'
            "shared = false\n\n"
            "[database]\n"
            f'url = "{self.db_url}"\n\n'
            "[http]\n"
            f'listen = "127.0.0.1:{self.http_port}"\n\n'
            "[dashboard]\n"
            f'accounts_db = "{d / "accounts.db"}"\n'
            f'desks_file = "{d / "desks.toml"}"\n',
            encoding="utf-8",
        )

    def _add_users(self) -> None:
        from broker.accounts.store import AccountStore

        store = AccountStore(str(self.dir / "accounts.db"), time.time)
        try:
            self.logins = {"demo": secrets.token_urlsafe(9), "floor": secrets.token_urlsafe(9)}
            store.add("demo", "admin", self.logins["demo"])
            store.add("floor", "supervisor", self.logins["floor"], sites=[SITE])
        finally:
            store.close()

    def _healthy(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.http_port}/healthz", timeout=1
            ) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def _wait(self, cond: Any, timeout_s: float, what: str) -> None:
        from edge.errors import PoiseError

        end = time.monotonic() + timeout_s
        while not cond():
            dead = self.supervisor.exited() if self.supervisor else []
            if dead:
                raise PoiseError(f"{dead[0].name} exited at start:\n{self.log_tail(dead[0].name)}")
            if time.monotonic() > end:
                raise PoiseError(f"{what} did not start within {timeout_s:.0f} s")
            time.sleep(0.1)

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.dir / "logs" / f"{name}.log"
        try:
            return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def desks_running(self) -> bool:
        return self.supervisor is not None and self.supervisor.get("desks").proc.poll() is None

    def failed(self) -> str | None:
        """Name of a child that ended unexpectedly (the desks may end by ``duration_s``)."""
        if self.supervisor is None:
            return None
        for c in self.supervisor.exited():
            if c.name != "desks" or c.proc.returncode != 0:
                return c.name
        return None

    def stop_desks(self, timeout_s: float = 60.0) -> None:
        """Stop the desks first (they drain their outboxes and publish ``offline``)."""
        if self.supervisor is not None:
            self.supervisor.stop(self.supervisor.get("desks"), timeout_s)

    def stop(self) -> dict[str, Any]:
        """Stop every child (desks, collector, broker) and remove the directory."""
        info: dict[str, Any] = {"dir": str(self.dir), "pids": [], "ports": []}
        if self.supervisor is not None:
            info["pids"] = self.supervisor.pids()
            self.supervisor.stop_all()
        info["ports"] = [p for p in (self.mqtt_port, self.http_port) if p]
        if self.dir != Path() and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
        return info

    def summary(self) -> dict[str, Any]:
        """What reached the database: rows and gaps per device (read-only, while running)."""
        from broker.storage import open_store

        store = open_store(self.db_url)
        try:
            gaps = store.gaps()
            counts = store.counts()
            devices = {r.device: r for r in store.registry()}
            per_device = {d: store.latest(d, "metrics") is not None for d in devices}
        finally:
            store.close()
        return {
            "counts": counts,
            "gaps": [asdict(g) for g in gaps],
            "devices_with_metrics": sorted(d for d, ok in per_device.items() if ok),
        }


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
