"""The production template for real: mutual TLS, identity from the certificate, per-device ACL
patterns and a CRL, on a Mosquitto started from ``production_config`` + ``production_acl``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from broker.mosquitto.config import production_acl, production_config
from tests.support.mosquitto import BrokerFactory
from tests.support.ports import free_port, wait_listening

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: Any) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class Pki:
    def __init__(self, d: Path) -> None:
        self.d = d
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(_name("poise test ca"))
            .issuer_name(_name("poise test ca"))
            .public_key(self.ca_key.public_key())
            .serial_number(1)
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        (d / "ca.crt").write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        self.serials: dict[str, int] = {}

    def issue(self, cn: str, server: bool = False) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        serial = x509.random_serial_number()
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
        )
        if server:
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        cert = b.sign(self.ca_key, hashes.SHA256())
        crt, keyp = self.d / f"{cn}.crt", self.d / f"{cn}.key"
        crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(keyp, key)
        self.serials[cn] = serial
        return crt, keyp

    def crl(self, revoked: list[str]) -> None:
        b = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca.subject)
            .last_update(NOW - dt.timedelta(hours=1))
            .next_update(NOW + dt.timedelta(days=7))
        )
        for cn in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(self.serials[cn])
                .revocation_date(NOW - dt.timedelta(minutes=5))
                .build()
            )
        crl = b.sign(self.ca_key, hashes.SHA256())
        (self.d / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))


class Client:
    def __init__(self, pki: Pki, port: int, cn: str | None) -> None:
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        crt, key = (pki.d / f"{cn}.crt", pki.d / f"{cn}.key") if cn else (None, None)
        self.c.tls_set(
            ca_certs=str(pki.d / "ca.crt"),
            certfile=str(crt) if crt else None,
            keyfile=str(key) if key else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.acks: dict[int, Any] = {}
        self.got: list[str] = []
        self.ok = False
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda *a: self.connected.set()  # refused after the handshake
        self.c.on_publish = lambda cl, u, mid, rc, p: self.acks.__setitem__(mid, rc)
        self.c.on_message = lambda cl, u, m: self.got.append(m.topic)
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        try:
            self.c.connect("127.0.0.1", port, keepalive=5)
        except (ssl.SSLError, OSError):
            self.connected.set()
            return
        self.c.loop_start()
        self.connected.wait(10)

    def _on_connect(self, cl: Any, u: Any, f: Any, rc: Any, p: Any) -> None:
        self.ok = not rc.is_failure
        self.connected.set()

    def publish(self, topic: str) -> Any:
        info = self.c.publish(topic, b"{}", qos=1)
        info.wait_for_publish(10)
        return self.acks.get(info.mid)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def tls_broker(broker_factory: BrokerFactory, tmp_path: Path) -> tuple[Pki, int]:
    pki = Pki(tmp_path)
    pki.issue("server", server=True)
    for cn in ("desk-1", "desk-2", "desk-3", "poise-collector-1"):
        pki.issue(cn)
    pki.crl(["desk-3"])
    (tmp_path / "production.acl").write_text(production_acl(), encoding="utf-8")
    port = free_port()
    conf = production_config(etc=str(tmp_path), data=str(tmp_path), port=port, log_dest="stderr")
    conf = conf.replace(f"listener {port}", f"listener {port} 127.0.0.1")
    broker_factory(listener=False, persistence=False, extra=[conf]).start()
    wait_listening(port)
    return pki, port


def test_device_may_write_only_its_own_topics(tls_broker: tuple[Pki, int]) -> None:
    pki, port = tls_broker
    collector = Client(pki, port, "poise-collector-1")
    assert collector.ok
    collector.c.subscribe("poise/v1/#", qos=1)
    assert collector.subscribed.wait(10)
    dev = Client(pki, port, "desk-1")
    assert dev.ok
    own = dev.publish("poise/v1/site-a/desk-1/metrics")
    other = dev.publish("poise/v1/site-a/desk-2/metrics")
    cmd = dev.publish("poise/v1/site-a/desk-1/cmd")  # devices read cmd, never write it
    assert not own.is_failure
    assert other.is_failure and cmd.is_failure  # v5 PUBACK: not authorized
    marker = Client(pki, port, "desk-2")
    marker.publish("poise/v1/site-a/desk-2/health")
    deadline = threading.Event()
    for _ in range(100):
        if "poise/v1/site-a/desk-2/health" in collector.got:
            break
        deadline.wait(0.05)
    assert collector.got == ["poise/v1/site-a/desk-1/metrics", "poise/v1/site-a/desk-2/health"]
    for c in (collector, dev, marker):
        c.close()


def test_revoked_or_missing_certificate_is_refused(tls_broker: tuple[Pki, int]) -> None:
    pki, port = tls_broker
    revoked = Client(pki, port, "desk-3")
    assert not revoked.ok
    anonymous = Client(pki, port, None)
    assert not anonymous.ok
