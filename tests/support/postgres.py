"""A real PostgreSQL server for tests and benches: Debian's binaries, a temp dir, a free port.

``initdb`` refuses to run as root, so when we are root the server runs as ``nobody`` (through
``runuser``) in a directory owned by it. TCP on 127.0.0.1 only, no Unix socket, trust auth for
the one superuser ``poise``. :func:`postgres_server` (session) starts one server;
:func:`postgres_url` gives each test its own fresh database on it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
USER = "poise"


def pg_bin(name: str) -> str:
    for d in PG_BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found (apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One throwaway PostgreSQL cluster; ``url(db)`` connects to it."""

    def __init__(self, *, fsync: bool = False, settings: dict[str, str] | None = None):
        self.fsync = fsync
        self.settings = settings or {}
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="poise-pg-"))
        self.data = self.dir / "data"
        self._run_as: list[str] = []
        if os.geteuid() == 0:
            self._run_as = ["runuser", "-u", "nobody", "--"]
            os.chown(self.dir, *_nobody())
        self._counter = itertools.count()

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [*self._run_as, *argv],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )

    def start(self, timeout_s: float = 60.0) -> PostgresServer:
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8")
        opts = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "on" if self.fsync else "off",
            "max_connections": "50",
            **self.settings,
        }
        o = " ".join(f"-c {k}={v!r}" if v == "" else f"-c {k}={v}" for k, v in opts.items())
        self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            o,
            "-w",
            "-t",
            str(int(timeout_s)),
            "start",
        )
        deadline = time.monotonic() + timeout_s
        import psycopg

        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}"

    def create_database(self, prefix: str = "t") -> str:
        """Create a fresh database and return its URL."""
        import psycopg

        name = f"{prefix}{next(self._counter)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _nobody() -> tuple[int, int]:
    import pwd

    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        pg_bin("initdb")
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database()
