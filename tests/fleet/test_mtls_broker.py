"""Against a real mosquitto with the fleet's generated mTLS listeners, ACL and CRL."""

from __future__ import annotations

import json
import time
from pathlib import Path

from broker.fleet import ca
from broker.fleet.fleet import Fleet
from broker.fleet.mosquitto_conf import ADMIN_CN
from broker.fleet.pushes import config_set
from edge.telemetry.topics import DeviceTopics
from tests.fleet.conftest import (
    WAIT_S,
    admin_client,
    connect,
    enroll,
    mqtt_client,
    subscribe_sync,
    watch_device,
)
from tests.support.mosquitto import Broker


def _device(fleet: Fleet, url: str, tmp: Path, dev: str, site: str = "s1") -> tuple[Path, Path]:
    a = fleet.add(dev, site, dev.upper())
    ident = enroll(fleet, url, dev, tmp / dev, a.token)
    return ident.cert, ident.key


def test_enrolled_device_connects_and_publishes(
    fleet: Fleet, fleet_broker: Broker, enroll_server: str, tmp_path: Path
) -> None:
    cert, key = _device(fleet, enroll_server, tmp_path, "desk-1")
    assert (key.stat().st_mode & 0o777) == 0o600
    topics = DeviceTopics("s1", "desk-1")
    adm = watch_device(fleet, topics, "test-admin")
    dev = mqtt_client(fleet.settings.device_port, fleet.dir.ca_cert, cert, key, "whatever")
    assert connect(dev, fleet.settings.device_port)
    dev.c.publish(topics.health, b'{"ok":1}', qos=1).wait_for_publish(WAIT_S)
    assert adm.wait_for(lambda m: (topics.health, b'{"ok":1}') in m)
    dev.stop()
    adm.stop()


def test_no_or_foreign_certificate_no_connection(
    fleet: Fleet, fleet_broker: Broker, tmp_path: Path
) -> None:
    port = fleet.settings.device_port
    assert not connect(mqtt_client(port, fleet.dir.ca_cert, None, None, "anon"), port)
    # A certificate for a registered device id, but from another CA.
    import datetime as dt

    fleet.add("desk-9", "s1", "X")
    now = dt.datetime.now(dt.UTC)
    other_key = ca.new_key()
    other = ca.make_ca(other_key, "evil", now, 1)
    k = ca.new_key()
    issued = ca.issue_client(other_key, other, k.public_key(), "desk-9", now, 1)
    (tmp_path / "e.crt").write_bytes(issued.cert_pem)
    (tmp_path / "e.key").write_bytes(ca.key_pem(k))
    cl = mqtt_client(port, fleet.dir.ca_cert, tmp_path / "e.crt", tmp_path / "e.key", "desk-9")
    assert not connect(cl, port)


def test_device_cannot_touch_another_devices_topics(
    fleet: Fleet, fleet_broker: Broker, enroll_server: str, tmp_path: Path
) -> None:
    ca_cert, key_a = _device(fleet, enroll_server, tmp_path, "desk-a")
    cert_b, key_b = _device(fleet, enroll_server, tmp_path, "desk-b")
    a_t, b_t = DeviceTopics("s1", "desk-a"), DeviceTopics("s1", "desk-b")
    config_set(fleet, device="desk-b", assignments=["budget.max_cues_per_10min=2"])
    config_set(fleet, device="desk-a", assignments=["budget.max_cues_per_10min=3"])
    adm = admin_client(fleet)
    assert connect(adm, fleet.settings.admin_port)
    subscribe_sync(adm, "poise/v1/#", "poise/v1/s9/probe/cmd")
    a = mqtt_client(fleet.settings.device_port, fleet.dir.ca_cert, ca_cert, key_a, "desk-b")
    assert connect(a, fleet.settings.device_port)
    # A reads: its own retained config arrives, B's config and cmd never do.
    a.c.subscribe([(b_t.config, 1), (b_t.cmd, 1), ("poise/v1/#", 1), (a_t.config, 1)])
    assert a.wait_for(lambda m: any(t == a_t.config for t, _ in m)), f"A got {a.messages}"
    fleet.send_cmd("desk-b", "identify")
    # A writes to B's topics and to its own; only its own get through.
    for t in (b_t.status, b_t.health, b_t.config, b_t.cmd, "poise/v1/s2/desk-a/health"):
        a.c.publish(t, b"spoof", qos=1).wait_for_publish(WAIT_S)
    a.c.publish(a_t.health, b"mine", qos=1).wait_for_publish(WAIT_S)
    assert adm.wait_for(lambda m: (a_t.health, b"mine") in m), fleet_broker.log()
    seen = adm.messages
    assert not [t for t, p in seen if p == b"spoof"]
    # B's own session was not pushed off by A claiming its client id (the broker forced A's
    # client id to its certificate name): B still connects and gets its config.
    b = mqtt_client(fleet.settings.device_port, fleet.dir.ca_cert, cert_b, key_b, "x")
    assert connect(b, fleet.settings.device_port), fleet_broker.log()
    b.c.subscribe(b_t.config, 1)
    assert b.wait_for(lambda m: any(t == b_t.config for t, _ in m)), f"B got {b.messages}"
    assert a.connected.is_set(), fleet_broker.log()
    assert not [t for t, _ in a.messages if t.startswith(b_t.base)]
    for c in (a, b):
        c.stop()
    adm.stop()


def test_revoked_device_refused_and_live_session_ended(
    fleet: Fleet, fleet_broker: Broker, enroll_server: str, tmp_path: Path
) -> None:
    cert, key = _device(fleet, enroll_server, tmp_path, "desk-lost")
    port = fleet.settings.device_port
    dev = mqtt_client(port, fleet.dir.ca_cert, cert, key, "desk-lost", reconnect=True)
    assert connect(dev, port)
    t0 = time.monotonic()
    fleet.revoke("desk-lost")
    assert dev.disconnected.wait(10.0), "live session still up 10 s after revoke"
    assert time.monotonic() - t0 < 10.0
    dev.c.loop_stop()
    again = mqtt_client(port, fleet.dir.ca_cert, cert, key, "desk-lost")
    assert not connect(again, port)
    assert "desk-lost" not in fleet.dir.acl.read_text().split()
    assert ADMIN_CN in fleet.dir.acl.read_text()
    log = fleet_broker.log()
    assert "certificate verify failed" in log or "revoked" in log
    assert fleet.device("desk-lost").state == "revoked"
    assert json.loads(json.dumps(fleet.registry.revoked_serials()))
