"""Talking to the broker as the fleet: publish config and cmd, reload, end a session.

:class:`AdminMqtt` connects to the admin listener with the ``fleet.admin`` certificate (MQTT v5,
TLS). :meth:`AdminMqtt.kick` ends a device's live session: Mosquitto only checks the CRL when a
client connects, so after the CRL is regenerated and the broker reloaded, the fleet connects
once with the device's client id (allowed on the admin listener only); the broker closes the
device's connection ("already connected, closing old connection") and, since the reloaded CRL
now lists its certificate, its reconnect fails the TLS handshake.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.errors import PoiseError

log = logging.getLogger(__name__)


PROBE_ROOT = "fleet/probe"
"""The fleet tools' own topics (outside ``poise/``: no collector sees them)."""


class BrokerError(PoiseError):
    """The broker could not be reached or told."""


def pid_file_reloader(pid_file: Path) -> Callable[[], None]:
    """SIGHUP the mosquitto whose pid is in ``pid_file``."""

    def reload() -> None:
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            raise BrokerError(f"cannot reload the broker via {pid_file}: {exc}") from None
        log.info("broker (pid %d) told to reload", pid)

    return reload


def command_reloader(command: str) -> Callable[[], None]:
    """Run ``command`` (e.g. ``systemctl reload mosquitto``)."""

    def reload() -> None:
        try:
            subprocess.run(shlex.split(command), check=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BrokerError(f"broker reload command failed: {exc}") from None

    return reload


class AdminMqtt:
    """Short-lived MQTT v5 connections to the admin listener as ``fleet.admin``."""

    def __init__(
        self, host: str, port: int, ca: Path, cert: Path, key: Path, timeout_s: float = 10.0
    ) -> None:
        self.host, self.port = host, port
        self.ca, self.cert, self.key = ca, cert, key
        self.timeout_s = timeout_s

    def _client(self, client_id: str) -> tuple[Any, threading.Event, list[Any]]:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.tls_set(ca_certs=str(self.ca), certfile=str(self.cert), keyfile=str(self.key))
        connected = threading.Event()
        result: list[object] = []

        def on_connect(
            client: object, userdata: object, flags: object, rc: object, props: object
        ) -> None:
            result.append(rc)
            connected.set()

        c.on_connect = on_connect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        try:
            c.connect(self.host, self.port, keepalive=30, clean_start=True, properties=props)
        except OSError as exc:
            raise BrokerError(
                f"cannot reach the broker at {self.host}:{self.port}: {exc}"
            ) from None
        c.loop_start()
        if not connected.wait(self.timeout_s) or getattr(result[0], "is_failure", True):
            c.loop_stop()
            raise BrokerError(f"broker at {self.host}:{self.port} refused the fleet admin")
        return c, connected, result

    def publish(self, messages: list[tuple[str, bytes, bool]]) -> None:
        """Publish ``(topic, payload, retain)`` at QoS 1, waiting for every PUBACK."""
        c, _, _ = self._client(f"fleet.admin-{os.getpid()}-{threading.get_ident()}")
        try:
            infos = [c.publish(t, p, qos=1, retain=r) for t, p, r in messages]
            for info in infos:
                info.wait_for_publish(self.timeout_s)
                if not info.is_published():
                    raise BrokerError("the broker did not acknowledge a publish")
        finally:
            c.disconnect()
            c.loop_stop()

    def retained(self, topic_filter: str) -> list[tuple[str, bytes]]:
        """Every retained message under ``topic_filter`` (e.g. all devices' ``status``): they
        arrive right after the subscription; a probe on the fleet's own topic, published after
        subscribing, marks their end."""
        c, _, _ = self._client(f"fleet.admin-r-{os.getpid()}-{threading.get_ident()}")
        got: list[tuple[str, bytes]] = []
        done = threading.Event()
        probe = f"{PROBE_ROOT}/{os.getpid()}-{threading.get_ident()}"

        def on_message(client: Any, userdata: Any, msg: Any) -> None:
            if msg.topic == probe:
                done.set()
            elif msg.retain:
                got.append((msg.topic, bytes(msg.payload)))

        c.on_message = on_message
        try:
            c.subscribe([(topic_filter, 1), (probe, 1)])
            c.publish(probe, b"", qos=1)
            if not done.wait(self.timeout_s):
                raise BrokerError("the broker did not answer the status probe")
        finally:
            c.disconnect()
            c.loop_stop()
        return got

    def kick(self, client_id: str) -> None:
        """Take over ``client_id``'s session (ending the live connection), then leave."""
        c, _, _ = self._client(client_id)
        c.disconnect()
        c.loop_stop()
        log.info("session of %s ended", client_id)
