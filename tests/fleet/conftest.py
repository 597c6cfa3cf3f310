"""Fixtures for the fleet tests: a fleet directory, a real mosquitto with the fleet's mTLS
listeners and ACL, the enrollment endpoint over real HTTPS, and MQTT clients with certificates."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from broker.fleet.fleet import Fleet
from broker.fleet.layout import FleetDir
from broker.fleet.mosquitto_conf import listener_lines
from broker.fleet.settings import FleetSettings
from edge.fleet.enroll import EnrollmentClient, HttpsTransport, Identity
from edge.telemetry.topics import DeviceTopics
from tests.support.mosquitto import Broker, BrokerFactory, broker_factory  # noqa: F401
from tests.support.ports import free_port, wait_listening

WAIT_S = 20.0
"""Bound on every wait for a real event (generous: the machine is shared)."""


class FakeWallClock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self, t: float = 1_796_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> FakeWallClock:
    return FakeWallClock()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """A fresh fleet with free loopback ports (wall clock real: certificates must be valid for
    the real OpenSSL in mosquitto)."""
    s = FleetSettings(
        device_port=free_port(),
        admin_port=free_port(),
        enroll_url=f"https://127.0.0.1:{free_port()}",
        broker_host="127.0.0.1",
    )
    f = Fleet.init(FleetDir(tmp_path / "fleet"), s, reloader=lambda: None)
    yield f
    f.close()


@pytest.fixture
def fleet_broker(fleet: Fleet, broker_factory: BrokerFactory) -> Broker:  # noqa: F811
    """mosquitto with the fleet's two TLS listeners; the fleet reloads it by SIGHUP."""
    s = fleet.settings
    b = broker_factory(
        listener=False, extra=listener_lines(fleet.dir, s.device_port, s.admin_port, "127.0.0.1")
    )
    b.start()
    wait_listening(s.device_port, WAIT_S)
    wait_listening(s.admin_port, WAIT_S)
    fleet._reloader = b.reload
    return b


@pytest.fixture
def enroll_server(fleet: Fleet) -> Iterator[str]:
    """The enrollment endpoint over HTTPS (fleet server certificate) on a free port."""
    import uvicorn

    from broker.fleet.enroll_api import uvicorn_config

    port = int(fleet.settings.enroll_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn_config(fleet.dir.root, "127.0.0.1", port))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    wait_listening(port, WAIT_S)
    yield fleet.settings.enroll_url
    server.should_exit = True
    t.join(timeout=WAIT_S)


def enroll(fleet: Fleet, url: str, device: str, state: Path, token: str) -> Identity:
    state.mkdir(parents=True, exist_ok=True)
    (state / "enroll.token").write_text(token)
    ident = Identity.in_dir(state, fleet.dir.ca_cert)
    EnrollmentClient(ident, HttpsTransport(url, fleet.dir.ca_cert)).enroll(
        device, state / "enroll.token"
    )
    return ident


@dataclass
class Client:
    """A paho MQTT v5 client with connection events recorded."""

    c: Any
    connected: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    got: threading.Condition = field(default_factory=threading.Condition)
    refused: list[Any] = field(default_factory=list)

    def wait_for(self, pred: Any, timeout_s: float = WAIT_S) -> bool:
        with self.got:
            return self.got.wait_for(lambda: pred(self.messages), timeout_s)

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def subscribe_sync(cl: Client, topic_filter: str, probe_topic: str) -> None:
    """Subscribe, then publish a probe under the filter and wait for it: the subscription is
    live once the probe comes back (no sleeping)."""
    cl.c.subscribe(topic_filter, qos=1)
    marker = f"probe-{id(cl)}".encode()
    cl.c.publish(probe_topic, marker, qos=1)
    assert cl.wait_for(lambda m: (probe_topic, marker) in m), "subscription never became live"


def mqtt_client(
    port: int,
    ca: Path,
    cert: Path | None,
    key: Path | None,
    client_id: str = "",
    reconnect: bool = False,
) -> Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if cert is not None:
        c.tls_set(ca_certs=str(ca), certfile=str(cert), keyfile=str(key))
    else:
        c.tls_set(ca_certs=str(ca))
    cl = Client(c)

    def on_connect(client: Any, ud: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            cl.refused.append(rc)
        else:
            cl.disconnected.clear()
            cl.connected.set()

    def on_disconnect(client: Any, ud: Any, flags: Any, rc: Any, props: Any) -> None:
        cl.connected.clear()
        cl.disconnected.set()

    def on_message(client: Any, ud: Any, msg: Any) -> None:
        with cl.got:
            cl.messages.append((msg.topic, bytes(msg.payload)))
            cl.got.notify_all()

    c.on_connect, c.on_disconnect, c.on_message = on_connect, on_disconnect, on_message
    if not reconnect:
        c.reconnect_delay_set(1, 1)
    return cl


def admin_client(fleet: Fleet, client_id: str = "test-admin") -> Client:
    """A client with the fleet's admin certificate for its admin listener (not connected)."""
    return mqtt_client(
        fleet.settings.admin_port,
        fleet.dir.ca_cert,
        fleet.dir.client_cert("admin"),
        fleet.dir.client_key("admin"),
        client_id,
    )


def watch_device(fleet: Fleet, topics: DeviceTopics, client_id: str) -> Client:
    """An admin client, connected, with a live subscription to everything of one device."""
    adm = admin_client(fleet, client_id)
    assert connect(adm, fleet.settings.admin_port)
    subscribe_sync(adm, topics.base + "/#", topics.cmd)
    return adm


def connect(cl: Client, port: int) -> bool:
    """Connect and wait for CONNACK; False if the broker refused or the TLS handshake failed."""
    try:
        cl.c.connect("127.0.0.1", port, keepalive=10)
    except OSError:
        return False
    cl.c.loop_start()
    import time

    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if cl.connected.wait(0.05):
            return True
        if cl.disconnected.is_set() or cl.refused:
            return False
    return False
