"""Settings of the MQTT publisher (``telemetry.*`` in the device TOML).

An empty ``broker`` turns telemetry off: the device works alone, as before. ``poise edge run
--mqtt mqtt://host:port`` (or ``mqtts://``) sets it from the command line; site and device id
default to ``default`` and a name derived from the host name, so ``--mqtt`` alone works against
a local development broker.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from edge.telemetry.topics import TopicError, default_device_id, validate_id


@dataclass(frozen=True)
class BrokerAddress:
    """A parsed ``mqtt://host:port`` / ``mqtts://host:port``."""

    host: str
    port: int
    tls: bool


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse a broker URL; raise ``ValueError`` with one clear sentence on anything else.

    Credentials do not belong in the URL (they would end up in process lists and logs): use
    ``telemetry.username`` and ``telemetry.password_file``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"broker URL {url!r} is not valid: {exc}") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise ValueError(f"broker URL {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("broker URL must not hold credentials (use telemetry.username/password)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"broker URL {url!r} must be just scheme://host[:port]")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(parts.hostname, port or (8883 if tls else 1883), tls)


@dataclass(frozen=True)
class TelemetrySettings:
    """MQTT publisher: broker, identity, credentials, delivery and outbox limits."""

    broker: str = ""
    """``mqtt://host:port`` (plain, development) or ``mqtts://host:port`` (TLS). Empty: nothing
    is published and the device works alone."""

    site: str = "default"
    """Site id in every topic (``[a-z0-9-]{1,64}``)."""

    device: str = ""
    """Device id in every topic (``[a-z0-9-]{1,64}``). Empty: derived from the host name."""

    username: str = ""
    """MQTT user name (empty: anonymous; production units authenticate with a client
    certificate)."""

    password: str = ""
    """MQTT password, for development brokers only (prefer ``password_file``)."""

    password_file: str = ""
    """File holding the MQTT password (first line), readable by the poise user only."""

    ca_file: str = ""
    """CA bundle that signed the broker's certificate (``mqtts``; empty: the system's)."""

    cert_file: str = ""
    """This unit's client certificate (PEM) for mutual TLS; empty: no client certificate."""

    key_file: str = ""
    """Private key of ``cert_file`` (PEM)."""

    keepalive_s: int = 30
    """MQTT keepalive: a dead connection is noticed after about 1.5 times this."""

    session_expiry_s: int = 86400
    """The broker keeps this unit's session (subscriptions, queued ``cmd``) this long while it
    is away (``clean_start`` is off)."""

    inflight: int = 20
    """Messages sent but not yet acknowledged (PUBACK) at most; the outbox drains in order
    within this window."""

    outbox_max_rows: int = 100_000
    """The outbox keeps at most this many unsent messages; beyond, the oldest are dropped (and
    counted in ``health``)."""

    outbox_max_bytes: int = 64 * 1024 * 1024
    """... and at most this many payload bytes (64 MiB, about a week of metrics)."""

    outbox_max_age_s: float = 7 * 86400.0
    """... and nothing older than this (wall clock, seconds)."""

    health_interval_s: float = 60.0
    """Seconds between ``health`` messages."""

    backoff_min_s: float = 1.0
    """First reconnect delay; doubled after each failed attempt ..."""

    backoff_max_s: float = 60.0
    """... up to this."""

    backoff_jitter: float = 0.5
    """Each delay is drawn uniformly from ``(1 - jitter) .. 1`` times the nominal one, so a site
    of units that lost the broker together does not reconnect in lock step."""

    queue_size: int = 1000
    """Events waiting between the audio loop and the outbox writer; when full, events are
    dropped and counted (the audio loop never waits on the disk)."""

    check_payloads: bool = False
    """Check every payload against its JSON Schema before storing it (an invalid one is logged
    and never sent). Off on the device: the compiled validators cost about 5 MB of RSS, the
    tests check every payload the device produces, and the collector checks what it receives.
    Commands (``cmd``) are always checked."""

    state_dir: Path = Path("/var/lib/poise/telemetry")
    """Where the boot counter and the outbox (SQLite) live."""

    def __post_init__(self) -> None:
        if self.broker:
            parse_broker_url(self.broker)
        try:
            validate_id(self.site, "telemetry.site")
            if self.device:
                validate_id(self.device, "telemetry.device")
        except TopicError as exc:
            raise ValueError(str(exc)) from None
        if self.password and self.password_file:
            raise ValueError("give telemetry.password or telemetry.password_file, not both")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("telemetry.cert_file and telemetry.key_file go together")
        if not 1 <= self.keepalive_s <= 65535:
            raise ValueError("keepalive_s must be within 1..65535")
        if not 0 <= self.session_expiry_s <= 0xFFFFFFFF:
            raise ValueError("session_expiry_s must be within 0..4294967295")
        if not 1 <= self.inflight <= 1000:
            raise ValueError("inflight must be within 1..1000")
        if min(self.outbox_max_rows, self.outbox_max_bytes, self.queue_size) < 1:
            raise ValueError("outbox limits and queue_size must be positive")
        if min(self.outbox_max_age_s, self.health_interval_s, self.backoff_min_s) <= 0:
            raise ValueError("outbox_max_age_s, health_interval_s and backoff_min_s must be > 0")
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("backoff_max_s must be at least backoff_min_s")
        if not 0 <= self.backoff_jitter <= 1:
            raise ValueError("backoff_jitter must be within 0..1")

    @property
    def enabled(self) -> bool:
        return bool(self.broker)

    @property
    def address(self) -> BrokerAddress:
        return parse_broker_url(self.broker)

    def device_id(self, hostname: str | None = None) -> str:
        """The configured device id, or one derived from ``hostname`` (default: this host's)."""
        if self.device:
            return self.device
        return default_device_id(socket.gethostname() if hostname is None else hostname)

    def read_password(self) -> str | None:
        """The password (from ``password`` or the first line of ``password_file``), or None."""
        if self.password_file:
            try:
                text = Path(self.password_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(
                    f"cannot read telemetry.password_file {self.password_file}: {exc.strerror}"
                ) from None
            lines = text.splitlines()
            return lines[0] if lines else ""
        return self.password or None
