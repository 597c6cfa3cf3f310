"""Free loopback TCP ports and bounded waits for a server to listen."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout_s: float = 10.0, host: str = "127.0.0.1") -> None:
    """Return once something accepts TCP connections on ``host:port``; raise after
    ``timeout_s`` (a bounded wait on a real event, not a timing assumption)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on {host}:{port} after {timeout_s} s"
                ) from None
            time.sleep(0.02)
