"""The storage schema (version 1), for SQLite and PostgreSQL.

Tables (same names and columns in both backends; times are UTC epoch seconds):

``telemetry``
    Every stored stream message, one row per (device, boot, seq): ``device, boot, seq, site,
    kind, ts, received, call, payload``. ``kind`` is the topic leaf (metrics, events, health);
    ``payload`` the JSON body (TEXT in SQLite, JSONB in PostgreSQL). SQLite has a UNIQUE
    (device, boot, seq); PostgreSQL partitions the table by day of ``ts`` (``telemetry_pYYYYMMDD``,
    retention drops whole partitions), so its unique key must contain the partition key and is
    (device, boot, seq, ts): a redelivered message is byte-identical, ``ts`` included, so it
    still collides.
``devices``
    The registry (see :mod:`broker.storage.registry`), one row per device.
``status_log``
    Every status message (retained birth ``online``, last will ``offline``), one row per
    (device, boot, seq, state): status is state, not stream, and its ``seq`` is the next stream
    seq when it was made, so it lives outside ``telemetry``'s key space.
``rollups``
    One row per (device, hour): ``windows``, ``fields`` (JSON: path -> n/sum/min/max),
    ``events`` (JSON: type -> count).
``rollup_dirty``
    (device, hour) pairs written since their rollup was last computed.
``seq_floor``
    Per (device, boot), the first seq still retained after raw retention deleted older rows,
    so :meth:`~broker.storage.sql.SqlStore.gaps` does not report deleted data as missing.
``meta``
    ``schema_version``.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 1

_DEVICES = """
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    first_seen {real} NOT NULL,
    last_seen {real} NOT NULL,
    online {bool},
    status_ts {real},
    status_boot {int},
    status_seq {int},
    boot {int},
    software TEXT,
    model TEXT,
    model_sha256 TEXT,
    config_version TEXT,
    policy_profile TEXT,
    status_reason TEXT,
    agent TEXT,
    detectors {json},
    health {json},
    health_ts {real},
    health_boot {int},
    health_seq {int}
)"""

_COMMON = [
    _DEVICES,
    """CREATE TABLE IF NOT EXISTS rollups (
    device TEXT NOT NULL,
    hour {real} NOT NULL,
    windows {int} NOT NULL,
    fields {json} NOT NULL,
    events {json} NOT NULL,
    PRIMARY KEY (device, hour)
)""",
    """CREATE TABLE IF NOT EXISTS status_log (
    device TEXT NOT NULL,
    boot {int} NOT NULL,
    seq {int} NOT NULL,
    state TEXT NOT NULL,
    site TEXT NOT NULL,
    ts {real} NOT NULL,
    received {real} NOT NULL,
    payload {json} NOT NULL,
    PRIMARY KEY (device, boot, seq, state)
)""",
    """CREATE TABLE IF NOT EXISTS rollup_dirty (
    device TEXT NOT NULL,
    hour {real} NOT NULL,
    marked {real} NOT NULL,
    PRIMARY KEY (device, hour)
)""",
    """CREATE TABLE IF NOT EXISTS seq_floor (
    device TEXT NOT NULL,
    boot {int} NOT NULL,
    from_seq {int} NOT NULL,
    PRIMARY KEY (device, boot)
)""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

_TELEMETRY_COLUMNS = """
    device TEXT NOT NULL,
    boot {int} NOT NULL,
    seq {int} NOT NULL,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    ts {real} NOT NULL,
    received {real} NOT NULL,
    call TEXT,
    payload {json} NOT NULL"""

SQLITE_TYPES = {"real": "REAL", "int": "INTEGER", "bool": "INTEGER", "json": "TEXT"}
POSTGRES_TYPES = {"real": "DOUBLE PRECISION", "int": "BIGINT", "bool": "BOOLEAN", "json": "JSONB"}

SQLITE = [
    "CREATE TABLE IF NOT EXISTS telemetry ("
    + _TELEMETRY_COLUMNS.format(**SQLITE_TYPES)
    + ",\n    UNIQUE (device, boot, seq)\n)",
    "CREATE INDEX IF NOT EXISTS telemetry_device_kind_ts ON telemetry (device, kind, ts)",
    "CREATE INDEX IF NOT EXISTS telemetry_ts ON telemetry (ts)",
    *(s.format(**SQLITE_TYPES) for s in _COMMON),
]

POSTGRES = [
    "CREATE TABLE IF NOT EXISTS telemetry ("
    + _TELEMETRY_COLUMNS.format(**POSTGRES_TYPES)
    + ",\n    UNIQUE (device, boot, seq, ts)\n) PARTITION BY RANGE (ts)",
    "CREATE INDEX IF NOT EXISTS telemetry_device_kind_ts ON telemetry (device, kind, ts)",
    *(s.format(**POSTGRES_TYPES) for s in _COMMON),
]

#: Columns of ``telemetry`` in insert order.
TELEMETRY_COLUMNS = ("device", "boot", "seq", "site", "kind", "ts", "received", "call", "payload")

#: Columns of ``devices`` in insert order.
DEVICE_COLUMNS = (
    "device",
    "site",
    "first_seen",
    "last_seen",
    "online",
    "status_ts",
    "status_boot",
    "status_seq",
    "boot",
    "software",
    "model",
    "model_sha256",
    "config_version",
    "policy_profile",
    "status_reason",
    "agent",
    "detectors",
    "health",
    "health_ts",
    "health_boot",
    "health_seq",
)

#: Key of ``rollups`` and ``rollup_dirty``.
DEVICE_HOUR = ("device", "hour")

#: A stored stream message as :class:`~broker.storage.model.Point` fields (add WHERE ...).
POINT_SELECT = "SELECT device, kind, boot, seq, ts, payload FROM telemetry"


def dumps(obj: Any) -> str:
    """Compact JSON as stored."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
