"""Settings of ``poise collector run``: frozen dataclasses, one TOML file (``collector.toml``).

Every field has its default and meaning documented below; ``docs/collector.md`` shows an example
file. Command-line flags (``--mqtt``, ``--db``, ``--http``) override the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from broker.dashboard.settings import DashboardSettings
from broker.storage.maintenance import Retention
from edge.errors import ConfigError
from edge.settings.loader import from_mapping, load_toml
from edge.telemetry.envelope import MAX_PAYLOAD_BYTES
from edge.telemetry.topics import TopicError, validate_id


def default_db_url() -> str:
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return f"sqlite://{state / 'poise' / 'collector.db'}"


@dataclass(frozen=True)
class MqttSettings:
    """The broker connection and the subscription."""

    url: str = "mqtt://127.0.0.1:1883"
    """Broker: ``mqtt://[user:password@]host:port`` or ``mqtts://`` (TLS, default port 8883)."""
    client_id: str = "poise-collector-1"
    """MQTT client id; must be stable across restarts (the persistent session is keyed by it)
    and different for every collector of a group."""
    group: str = "collectors"
    """Shared-subscription group: collectors with the same group split the stream."""
    shared: bool = True
    """Subscribe through the MQTT v5 shared subscription ``$share/<group>/...`` (several
    collectors split the stream). Mosquitto 2.0.11 (Debian 12) does not restore shared
    subscriptions from its persistence file: after a broker restart, messages published before
    the collectors reconnect are dropped by the broker. A site with one collector sets this to
    false (a plain persistent subscription, which Mosquitto does restore)."""
    session_expiry_s: int = 7 * 86400
    """How long the broker keeps this collector's session (and queues for it) while it is away."""
    keepalive_s: int = 30
    """MQTT keepalive."""
    receive_maximum: int = 1000
    """Unacknowledged QoS 1 messages the broker may have in flight to us (MQTT v5 Receive
    Maximum; Mosquitto also caps it with ``max_inflight_messages``)."""
    password_file: Path | None = None
    """File holding the password (instead of putting it in the URL)."""
    ca_file: Path | None = None
    """CA bundle to verify the broker (mqtts)."""
    cert_file: Path | None = None
    """Client certificate (mqtts with require_certificate)."""
    key_file: Path | None = None
    """Client key for ``cert_file``."""

    def __post_init__(self) -> None:
        try:
            validate_id(self.group, "share group")
        except TopicError as exc:
            raise ConfigError(str(exc)) from None
        endpoint(self.url)

    def password(self) -> str | None:
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read {self.password_file}: {exc.strerror}") from None
        return endpoint(self.url).password


@dataclass(frozen=True)
class Endpoint:
    tls: bool
    host: str
    port: int
    username: str | None
    password: str | None


def endpoint(url: str) -> Endpoint:
    """Parse an ``mqtt://`` / ``mqtts://`` URL."""
    u = urlsplit(url)
    if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
        raise ConfigError(f"MQTT URL must look like mqtt://host:port or mqtts://host:port: {url!r}")
    try:
        port = u.port or (8883 if u.scheme == "mqtts" else 1883)
    except ValueError:
        raise ConfigError(f"bad port in MQTT URL {url!r}") from None
    return Endpoint(
        tls=u.scheme == "mqtts",
        host=u.hostname,
        port=port,
        username=unquote(u.username) if u.username else None,
        password=unquote(u.password) if u.password else None,
    )


@dataclass(frozen=True)
class DatabaseSettings:
    """Where messages are stored."""

    url: str = field(default_factory=default_db_url)
    """``sqlite://PATH`` (embedded default: ``$XDG_STATE_HOME/poise/collector.db``) or
    ``postgresql://user@host:port/db`` (several collectors, partitions, retention by drop)."""
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    """SQLite: FULL makes every acknowledged batch survive a power cut; NORMAL only a crash."""


@dataclass(frozen=True)
class IngestSettings:
    """Batching, back-pressure and validation limits."""

    batch_max: int = 2000
    """Most messages committed in one transaction."""
    linger_s: float = 0.0
    """Extra wait for more messages before a commit (0: commit whatever arrived during the
    previous commit — group commit — which batches by itself under load)."""
    queue_max: int = 20000
    """Received messages waiting for the writer; when full, reading from the broker pauses."""
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    """Payloads larger than this are rejected (``too_large``)."""
    reject_log_interval_s: float = 60.0
    """At most one log line per rejection reason per interval (the rest are counted)."""
    retry_backoff_s: float = 1.0
    """First wait before retrying a failed commit (doubles up to 30 s)."""

    def __post_init__(self) -> None:
        if self.batch_max < 1 or self.queue_max < 1:
            raise ConfigError("ingest.batch_max and ingest.queue_max must be >= 1")


@dataclass(frozen=True)
class MaintenanceSettings:
    """Rollups and retention."""

    interval_s: float = 300.0
    """How often rollups are brought up to date and retention applied."""
    retention: Retention = field(default_factory=Retention)
    """How long raw messages and hourly rollups are kept."""


@dataclass(frozen=True)
class HttpSettings:
    """The metrics and health endpoint."""

    listen: str = "127.0.0.1:9108"
    """``HOST:PORT`` for ``/metrics`` (Prometheus) and ``/healthz``; empty: no HTTP server."""

    def address(self) -> tuple[str, int] | None:
        if not self.listen:
            return None
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(f"http.listen must be HOST:PORT, got {self.listen!r}")
        return host.strip("[]"), int(port)


@dataclass(frozen=True)
class CollectorSettings:
    """Everything ``poise collector run`` reads from ``collector.toml``."""

    mqtt: MqttSettings = field(default_factory=MqttSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    """The supervisor dashboard served on ``http.listen`` (docs/dashboard.md)."""


def load_settings(
    path: str | Path | None = None,
    *,
    mqtt: str | None = None,
    db: str | None = None,
    http: str | None = None,
) -> CollectorSettings:
    """Read ``collector.toml`` (or the defaults), then apply the command-line overrides."""
    s = from_mapping(CollectorSettings, load_toml(path)) if path else CollectorSettings()
    if mqtt is not None:
        s = replace(s, mqtt=replace(s.mqtt, url=mqtt))
    if db is not None:
        s = replace(s, database=replace(s.database, url=db))
    if http is not None:
        s = replace(s, http=HttpSettings(http))
    s.http.address()
    return s
