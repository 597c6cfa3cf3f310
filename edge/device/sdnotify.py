"""A tiny stdlib ``sd_notify``: tell systemd (Type=notify) we are ready and still alive.

Only active when ``$NOTIFY_SOCKET`` is set (running under systemd); otherwise every call is a
no-op. ``$WATCHDOG_USEC`` gives the watchdog period; we ping at half of it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SdNotifier:
    """Sends datagrams such as ``READY=1`` and ``WATCHDOG=1`` to the notify socket."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if addr:
            # A leading "@" means the Linux abstract namespace.
            self.address = "\0" + addr[1:] if addr.startswith("@") else addr
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_s: float | None = int(usec) / 2e6 if usec.isdigit() and int(usec) else None
        """Seconds between watchdog pings (half of WatchdogSec), or None without a watchdog."""
        self._last_ping = -1e18

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, state: str) -> bool:
        """Send ``state``; False (and a debug line) when not under systemd or on failure."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.connect(self.address)
                s.sendall(state.encode())
            return True
        except OSError as exc:
            log.warning("sd_notify(%s) failed: %s", state.split("\n")[0], exc)
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog(self, now: float) -> bool:
        """Ping the watchdog if half the watchdog period passed since the last ping."""
        if self.watchdog_s is None or now - self._last_ping < self.watchdog_s:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")
