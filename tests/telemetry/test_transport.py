"""TLS with a client certificate (production) and a password (development) against mosquitto."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from edge.protocols import FakeClock
from edge.telemetry.payloads import metrics_body
from tests.support.certs import ThrowawayCA
from tests.support.mosquitto import BrokerFactory
from tests.support.mqtt_sub import Subscriber
from tests.support.ports import free_port, wait_listening
from tests.telemetry.harness import make_publisher, stream
from tests.telemetry.synthetic import window

TOPICS = ["poise/v1/+/+/+"]


def _send_one(pub_state: Path, url: str, sub: Subscriber, **kw: Any) -> list[dict[str, Any]]:
    pub = make_publisher(pub_state, url, FakeClock(0.0), health=False, **kw).start()
    try:
        assert pub.wait_connected(10), "not connected"
        pub.publish("metrics", metrics_body(window(0), True, frozenset()))
        msgs = sub.wait_for(lambda m: len(stream(m)) >= 1, 10)
    finally:
        pub.stop(2.0)
    return stream(msgs)


def test_mutual_tls_with_a_client_certificate(
    broker_factory: BrokerFactory, tmp_path: Path
) -> None:
    ca = ThrowawayCA(tmp_path / "pki")
    server = ca.issue("broker", server=True)
    client = ca.issue("desk-1", server=False)
    tls_port = free_port()
    broker = broker_factory(
        extra=[
            f"listener {tls_port} 127.0.0.1",
            f"cafile {ca.pair.cert}",
            f"certfile {server.cert}",
            f"keyfile {server.key}",
            "require_certificate true",
            "use_identity_as_username true",
        ]
    ).start()
    wait_listening(tls_port)
    sub = Subscriber(broker.port, TOPICS)  # plain loopback listener of the same broker
    try:
        docs = _send_one(
            tmp_path / "s",
            f"mqtts://127.0.0.1:{tls_port}",
            sub,
            ca_file=str(ca.pair.cert),
            cert_file=str(client.cert),
            key_file=str(client.key),
        )
    finally:
        sub.close()
    assert docs[0]["kind"] == "metrics" and docs[0]["device"] == "desk-1"
    # without a client certificate the broker refuses the unit
    pub = make_publisher(
        tmp_path / "s2",
        f"mqtts://127.0.0.1:{tls_port}",
        FakeClock(0.0),
        health=False,
        ca_file=str(ca.pair.cert),
    ).start()
    try:
        assert pub.wait_failures(1, 10)
    finally:
        pub.stop(0.5)
    assert pub.stats.connects == 0


def test_password_for_development(broker_factory: BrokerFactory, tmp_path: Path) -> None:
    pwfile = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pwfile), "desk", "s3cret"], check=True)
    (tmp_path / "pw").write_text("s3cret\n")
    broker = broker_factory(extra=[f"password_file {pwfile}"]).start()
    sub = Subscriber(broker.port, TOPICS)
    try:
        docs = _send_one(
            tmp_path / "s",
            broker.url,
            sub,
            username="desk",
            password_file=str(tmp_path / "pw"),
        )
    finally:
        sub.close()
    assert docs[0]["kind"] == "metrics"
    pub = make_publisher(
        tmp_path / "s2",
        broker.url,
        FakeClock(0.0),
        health=False,
        username="desk",
        password="wrong",
    ).start()
    try:
        assert pub.wait_failures(1, 10)
    finally:
        pub.stop(0.5)
    assert pub.stats.connects == 0
