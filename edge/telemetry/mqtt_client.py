"""One paho-mqtt 2.x client per connection attempt (MQTT v5, credentials, TLS, last will), and
the network thread's wait: paho's external-loop API over the socket plus a wake-up pipe.

A fresh client per connection keeps paho's own queue empty (the outbox is the only record of
what is pending); TLS files are read at every attempt, so a renewed certificate is picked up on
the next reconnect.
"""

from __future__ import annotations

import contextlib
import select
import socket
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.telemetry.settings import TelemetrySettings


def make_client(
    settings: TelemetrySettings, client_id: str, will_topic: str, will_payload: bytes
) -> mqtt.Client:
    """A configured, unconnected client with a retained QoS 1 last will."""
    s = settings
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(s.inflight + 4)
    client.max_queued_messages_set(0)
    if s.username:
        client.username_pw_set(s.username, s.read_password())
    if s.address.tls:
        client.tls_set(
            ca_certs=s.ca_file or None, certfile=s.cert_file or None, keyfile=s.key_file or None
        )
    client.will_set(will_topic, will_payload, qos=1, retain=True)
    return client


def connect(client: mqtt.Client, settings: TelemetrySettings) -> None:
    """Open the connection (TCP and TLS now; CONNACK arrives in ``client.loop``):
    ``clean_start=False`` with the session expiry, so the broker keeps the session."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = settings.session_expiry_s
    address = settings.address
    client.connect(
        address.host,
        address.port,
        keepalive=settings.keepalive_s,
        clean_start=False,
        properties=props,
    )


class Waker:
    """A self-pipe: :meth:`poke` (from any thread, never blocks) ends :meth:`wait` early, so the
    network thread sleeps until there is something to do instead of polling."""

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)

    def poke(self) -> None:
        with contextlib.suppress(OSError):  # full (already woken) or closed
            self._w.send(b"\0")

    def wait(
        self, timeout_s: float, sock: Any = None, want_write: bool = False
    ) -> tuple[bool, bool]:
        """Wait for a poke or for ``sock`` (readable; writable if ``want_write``), at most
        ``timeout_s``; returns (readable, writable) of ``sock``."""
        rlist = [self._r] if sock is None else [self._r, sock]
        wlist = [sock] if sock is not None and want_write else []
        readable, writable, _ = select.select(rlist, wlist, [], max(0.0, timeout_s))
        if self._r in readable:
            with contextlib.suppress(OSError):
                while self._r.recv(4096):
                    pass
        return sock in readable, sock in writable

    def close(self) -> None:
        self._r.close()
        self._w.close()


def loop_once(client: mqtt.Client, waker: Waker, timeout_s: float) -> MQTTErrorCode:
    """One round of paho's external-loop API: wait on the socket and the waker, then read,
    write and do the keepalive housekeeping."""
    sock = client.socket()
    if sock is None:
        return MQTTErrorCode.MQTT_ERR_NO_CONN
    if getattr(sock, "pending", lambda: 0)():  # TLS bytes already decrypted: no wait
        readable, writable = True, client.want_write()
    else:
        readable, writable = waker.wait(timeout_s, sock, client.want_write())
    rc = MQTTErrorCode.MQTT_ERR_SUCCESS
    if readable:
        rc = client.loop_read()
    if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and (writable or client.want_write()):
        rc = client.loop_write()
    if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
        rc = client.loop_misc()
    return rc
