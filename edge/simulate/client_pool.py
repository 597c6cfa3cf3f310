"""Many MQTT connections served by one thread: paho's external event loop over a selector.

Each simulated device has its own connection (its own client id and retained last will, as a
real desk has), but a process holds hundreds or thousands of them, so there is no loop thread per
client: sockets are registered with one :mod:`selectors` selector and paho is driven through
``loop_read``/``loop_write``/``loop_misc`` (paho 2's documented external-loop API, with the
``on_socket_*`` callbacks keeping the selector's interest in sync).
"""

from __future__ import annotations

import contextlib
import logging
import resource
import selectors
import socket
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger(__name__)


def raise_fd_limit(wanted: int) -> None:
    """Lift the soft open-files limit towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class ClientPool:
    """MQTT v5 clients on one selector; call :meth:`poll` from the one thread that publishes."""

    def __init__(self, host: str, port: int, username: str = "", password: str | None = None):
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.sel = selectors.DefaultSelector()
        self.clients: list[mqtt.Client] = []
        self.connected: set[int] = set()
        self.acked = 0
        self._next_misc = 0.0

    def add(
        self, client_id: str, will: tuple[str, bytes] | None = None, keepalive: int = 60
    ) -> mqtt.Client:
        """Connect one client (blocking TCP connect; the MQTT handshake completes in poll)."""
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(100)
        c.max_queued_messages_set(0)
        if self.username:
            c.username_pw_set(self.username, self.password)
        if will is not None:
            c.will_set(will[0], will[1], qos=1, retain=True)
        c.on_socket_open = self._opened
        c.on_socket_close = self._closed
        c.on_socket_register_write = self._want_write
        c.on_socket_unregister_write = self._done_write
        c.on_connect = self._on_connect
        c.on_publish = self._on_publish
        c.connect(self.host, self.port, keepalive=keepalive, clean_start=True)
        self.clients.append(c)
        return c

    # -- paho callbacks (all on the polling thread) -------------------------------------------
    def _opened(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self.sel.register(sock, selectors.EVENT_READ, client)

    def _closed(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(sock)
        self.connected.discard(id(client))

    def _want_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)

    def _done_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.modify(sock, selectors.EVENT_READ, client)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any):  # type: ignore[no-untyped-def]
        if not rc.is_failure:
            self.connected.add(id(client))
        else:
            log.warning("connect refused for %s: %s", client._client_id, rc)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: Any, props: Any):  # type: ignore[no-untyped-def]
        self.acked += 1

    # -- the loop --------------------------------------------------------------------------------
    def poll(self, timeout: float) -> None:
        """Serve every socket for up to ``timeout`` seconds (one select call)."""
        for key, mask in self.sel.select(timeout):
            c: mqtt.Client = key.data
            if mask & selectors.EVENT_READ:
                c.loop_read()
            if mask & selectors.EVENT_WRITE:
                c.loop_write()
        now = time.monotonic()
        if now >= self._next_misc:
            self._next_misc = now + 1.0
            for c in self.clients:
                c.loop_misc()
                if c.socket() is None and not c.is_connected():
                    with contextlib.suppress(OSError, socket.error):
                        c.reconnect()

    def wait(self, cond: Callable[[], bool], timeout: float) -> bool:
        """Poll until ``cond()`` holds or ``timeout`` seconds passed."""
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() >= end:
                return False
            self.poll(0.05)
        return True

    def close(self, drain_s: float = 10.0, expected: int | None = None) -> None:
        """Wait for outstanding acks (``expected`` total), then disconnect every client."""
        if expected is not None:
            self.wait(lambda: self.acked >= expected, drain_s)
        for c in self.clients:
            with contextlib.suppress(Exception):
                c.disconnect()
        self.wait(lambda: not self.sel.get_map(), 5.0)
        self.sel.close()
