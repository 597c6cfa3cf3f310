"""Render Mosquitto configurations from the telemetry contract.

* :func:`dev_config` — loopback listener, password file, persistence: what ``poise broker run``
  starts.
* :func:`production_config` + :func:`production_acl` — TLS on 8883 with client certificates
  (``require_certificate``, ``use_identity_as_username``: the certificate CN is the MQTT user),
  a CRL, per-device ACL patterns (a device may write only ``poise/v1/<site>/<its id>/...`` and
  read its own ``config``/``cmd``), persistence, bounded queues and ``max_packet_size``.
* :func:`bridge_config` — a site's Mosquitto forwarding its devices' topics to the central
  broker over mTLS, queueing (persistently) while the link is down.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from edge.telemetry.envelope import MAX_PAYLOAD_BYTES
from edge.telemetry.topics import CONTROL_KINDS, DEVICE_KINDS, ROOT, VERSION, device_filter

PACKET_OVERHEAD = 1024
"""Room for the fixed header, topic and properties on top of the largest valid payload."""
MAX_PACKET_SIZE = MAX_PAYLOAD_BYTES + PACKET_OVERHEAD
ALL_TOPICS = f"{ROOT}/{VERSION}/#"


@dataclass(frozen=True)
class Limits:
    """Broker-side bounds shared by every template."""

    max_queued_messages: int = 100_000
    """Per client: QoS 1 messages queued while it is away (bounded: a dead collector cannot
    exhaust the broker's memory; size it to the outage you want to ride out)."""
    max_queued_bytes: int = 256 * 1024 * 1024
    """Per client, in bytes."""
    max_inflight_messages: int = 1000
    """QoS 1 messages in flight to one client (a collector's commit window)."""
    persistent_client_expiration: str = "14d"
    """Sessions of clients gone longer than this are dropped."""


def _common(persistence_dir: str, limits: Limits) -> list[str]:
    return [
        "persistence true",
        f"persistence_location {persistence_dir.rstrip('/')}/",
        "autosave_interval 1",
        "autosave_on_changes false",
        f"max_queued_messages {limits.max_queued_messages}",
        f"max_queued_bytes {limits.max_queued_bytes}",
        f"max_inflight_messages {limits.max_inflight_messages}",
        f"persistent_client_expiration {limits.persistent_client_expiration}",
        f"max_packet_size {MAX_PACKET_SIZE}",
        "per_listener_settings false",
        "connection_messages true",
    ]


def dev_config(
    directory: str,
    port: int = 1883,
    host: str = "127.0.0.1",
    password_file: str | None = None,
    limits: Limits = Limits(),
    log_dest: str = "stderr",
) -> str:
    """Development broker: one loopback listener, users from a password file."""
    pw = password_file or f"{directory.rstrip('/')}/passwd"
    lines = [
        "# Poise development broker (rendered by broker.mosquitto.config; loopback only).",
        f"log_dest {log_dest}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        *_common(directory, limits),
        f"listener {port} {host}",
        "allow_anonymous false",
        f"password_file {pw}",
    ]
    return "\n".join(lines) + "\n"


def production_config(
    etc: str = "/etc/poise/mosquitto",
    data: str = "/var/lib/mosquitto",
    port: int = 8883,
    limits: Limits = Limits(),
    log_dest: str = "syslog",
) -> str:
    """Central broker: mutual TLS, identity from the certificate, ACL, CRL."""
    lines = [
        "# Poise central broker (rendered by broker.mosquitto.config).",
        "# Devices and collectors authenticate with client certificates signed by the fleet CA;",
        "# the certificate CN becomes the MQTT user name that production.acl matches.",
        f"log_dest {log_dest}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        *_common(data, limits),
        f"listener {port}",
        "protocol mqtt",
        f"cafile {etc}/ca.crt",
        f"certfile {etc}/server.crt",
        f"keyfile {etc}/server.key",
        f"crlfile {etc}/ca.crl",
        "tls_version tlsv1.2",
        "require_certificate true",
        "use_identity_as_username true",
        "allow_anonymous false",
        f"acl_file {etc}/production.acl",
    ]
    return "\n".join(lines) + "\n"


def production_acl(collectors: tuple[str, ...] = ("poise-collector-1", "poise-collector-2")) -> str:
    """Per-device ACL patterns (``%u`` = certificate CN = device id) and the collectors' rights."""
    lines = [
        "# Poise ACL (rendered by broker.mosquitto.config). A device (CN = its device id) may",
        "# publish only its own device topics and read only its own config and cmd.",
    ]
    me = "placeholder-device"  # a valid id, then swapped for Mosquitto's %u

    def own(kind: str) -> str:
        return device_filter(device=me, kind=kind).replace(f"/{me}/", "/%u/")

    lines += [f"pattern write {own(k)}" for k in DEVICE_KINDS]
    lines += [f"pattern read {own(k)}" for k in CONTROL_KINDS]
    for c in collectors:
        lines += [
            "",
            f"# collector {c}: reads everything devices publish, writes config and cmd",
            f"user {c}",
            f"topic read {ALL_TOPICS}",
        ]
        lines += [f"topic write {device_filter(kind=k)}" for k in CONTROL_KINDS]
    return "\n".join(lines) + "\n"


def bridge_config(
    central_host: str = "mqtt.example.invalid",
    central_port: int = 8883,
    site: str = "site-a",
    etc: str = "/etc/poise/mosquitto",
    data: str = "/var/lib/mosquitto",
    local_port: int = 8883,
    tls: bool = True,
    limits: Limits = Limits(),
) -> str:
    """A site broker: its devices connect to it; it forwards their topics to the central broker
    (QoS 1, persistent bridge session, queued locally while the link is down) and brings the
    devices' config/cmd back."""
    name = f"poise-bridge-{site}"
    lines = [
        f"# Poise site bridge for site {site} (rendered by broker.mosquitto.config).",
        "log_dest syslog" if tls else "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        *_common(data, limits),
    ]
    if tls:
        lines += [
            f"listener {local_port}",
            f"cafile {etc}/ca.crt",
            f"certfile {etc}/server.crt",
            f"keyfile {etc}/server.key",
            f"crlfile {etc}/ca.crl",
            "require_certificate true",
            "use_identity_as_username true",
            f"acl_file {etc}/production.acl",
        ]
    else:
        lines += [f"listener {local_port} 127.0.0.1", "allow_anonymous true"]
    lines += [
        "",
        f"connection {name}",
        f"address {central_host}:{central_port}",
        f"remote_clientid {name}",
        "cleansession false",
        "local_cleansession false",
        "try_private true",
        "restart_timeout 1 30",
        "keepalive_interval 30",
        "notifications false",
        *(f"topic {device_filter(site=site, kind=k)} out 1" for k in DEVICE_KINDS),
        *(f"topic {device_filter(site=site, kind=k)} in 1" for k in CONTROL_KINDS),
    ]
    if tls:
        lines += [
            f"bridge_cafile {etc}/ca.crt",
            f"bridge_certfile {etc}/bridge.crt",
            f"bridge_keyfile {etc}/bridge.key",
        ]
    return "\n".join(lines) + "\n"


TEMPLATES = {
    "dev.conf": lambda: dev_config("/var/lib/poise/broker", log_dest="stderr"),
    "production.conf": production_config,
    "production.acl": production_acl,
    "site-bridge.conf": bridge_config,
}
"""The reference files in ``broker/mosquitto/``."""


def write_all(folder: Path) -> list[Path]:
    out = []
    for name, render in TEMPLATES.items():
        p = folder / name
        p.write_text(render(), encoding="utf-8")
        out.append(p)
    return out


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "broker/mosquitto")):
        print(p)
