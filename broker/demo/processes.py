"""Child processes of the demo: started in their own sessions, stopped in reverse order.

Each child runs in a new session (process group), so a Ctrl-C in the terminal reaches only the
demo, which then stops the children itself: SIGTERM to the whole group, a bounded wait, SIGKILL
to the group if it has not gone. Nothing is left running when :meth:`Supervisor.stop_all` returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


@dataclass
class Child:
    """One supervised process and where its output goes."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


class Supervisor:
    """Starts named children and stops them all (last started first)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
        path = self.log_dir / f"{name}.log"
        out = path.open("wb")
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        child = Child(name, proc, path, out)
        self.children.append(child)
        log.info("started %s (pid %d): %s", name, proc.pid, " ".join(argv))
        return child

    def get(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def exited(self) -> list[Child]:
        """Children that have ended (on their own or not)."""
        return [c for c in self.children if c.proc.poll() is not None]

    def pids(self) -> list[int]:
        return [c.proc.pid for c in self.children]

    def stop(self, child: Child, timeout_s: float = 20.0) -> int | None:
        """SIGTERM the child's process group, wait up to ``timeout_s``, then SIGKILL it."""
        if child.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGTERM)
            try:
                child.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s: killing it", child.name, timeout_s)
        # the leader may be gone while workers of its group linger: make sure the group is gone
        _kill_group(child.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(5)
        child.log_file.close()
        return child.proc.returncode

    def stop_all(self, timeout_s: float = 20.0) -> None:
        for child in reversed(self.children):
            self.stop(child, timeout_s)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
