"""The fleet registry: one SQLite file of devices, certificates, tokens, configs and models.

Tokens are stored only as sha256 hashes (a token is 256 random bits, so a fast hash is enough;
there is nothing to brute-force) and are spent in the same transaction that records the issued
certificate (``BEGIN IMMEDIATE``: two concurrent enrollments with one token cannot both win).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    desk TEXT NOT NULL,
    created REAL NOT NULL,
    token_hash TEXT,
    token_expires REAL,
    enrolled_at REAL,
    cert_serial TEXT,
    cert_not_after REAL,
    revoked_at REAL,
    last_seen REAL,
    software TEXT,
    model_version INTEGER,
    config_version INTEGER
);
CREATE INDEX IF NOT EXISTS devices_site ON devices(site);
CREATE TABLE IF NOT EXISTS certs (
    serial TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    not_after REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS config_scopes (
    scope TEXT PRIMARY KEY,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_configs (
    device TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Device:
    """One row of the inventory."""

    id: str
    site: str
    desk: str
    enrolled_at: float | None
    cert_serial: str | None
    cert_not_after: float | None
    revoked_at: float | None
    last_seen: float | None
    software: str | None
    model_version: int | None
    config_version: int | None
    token_pending: bool

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "enrolled" if self.enrolled_at is not None else "waiting"


class Registry:
    """Access to ``registry.db``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        new = not self.path.exists()
        if new:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken immediately (rolled back on any error)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- devices ----------------------------------------------------------------------------
    def add_devices(
        self, rows: Iterable[tuple[str, str, str, str]], now: float, token_expires: float
    ) -> None:
        """Insert ``(id, site, desk, token)`` rows in one transaction (all or none)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO devices (id, site, desk, created, token_hash, token_expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(d, s, k, now, token_hash(t), token_expires) for d, s, k, t in rows],
            )

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = f"SELECT id FROM devices WHERE id IN ({','.join('?' * len(part))})"
            found |= {r[0] for r in self.db.execute(q, part)}
        return found

    def set_token(self, device: str, token: str, expires: float) -> None:
        self.db.execute(
            "UPDATE devices SET token_hash = ?, token_expires = ? WHERE id = ?",
            (token_hash(token), expires, device),
        )

    def get(self, device: str) -> Device | None:
        rows = self._devices("WHERE id = ?", (device,))
        return rows[0] if rows else None

    def devices(self, site: str | None = None, include_revoked: bool = True) -> list[Device]:
        where, args = [], []
        if site is not None:
            where.append("site = ?")
            args.append(site)
        if not include_revoked:
            where.append("revoked_at IS NULL")
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._devices(clause + " ORDER BY site, id", tuple(args))

    def _devices(self, clause: str, args: tuple[Any, ...]) -> list[Device]:
        q = (
            "SELECT id, site, desk, enrolled_at, cert_serial, cert_not_after, revoked_at, "
            "last_seen, software, model_version, config_version, token_hash IS NOT NULL "
            f"FROM devices {clause}"
        )
        return [
            Device(*r[:11], token_pending=bool(r[11]))  # type: ignore[misc]
            for r in self.db.execute(q, args)
        ]

    def check_token(self, db: sqlite3.Connection, device: str, token: str, now: float) -> str:
        """'' if ``token`` is ``device``'s live token, else why not (inside a transaction)."""
        row = db.execute(
            "SELECT token_hash, token_expires, revoked_at FROM devices WHERE id = ?", (device,)
        ).fetchone()
        if row is None:
            return "unknown device or token"
        stored, expires, revoked = row
        if revoked is not None:
            return "device revoked"
        if stored is None or not hmac.compare_digest(stored, token_hash(token)):
            return "unknown device or token"  # spent, never issued, or wrong: same answer
        if expires is not None and now >= expires:
            return "token expired"
        return ""

    def record_cert(
        self, db: sqlite3.Connection, device: str, serial: int, not_after: float, now: float
    ) -> None:
        """Spend the token and record the new certificate (inside a transaction)."""
        db.execute(
            "UPDATE devices SET token_hash = NULL, token_expires = NULL, "
            "enrolled_at = COALESCE(enrolled_at, ?), cert_serial = ?, cert_not_after = ? "
            "WHERE id = ?",
            (now, str(serial), not_after, device),
        )
        db.execute(
            "INSERT INTO certs (serial, device, not_after) VALUES (?, ?, ?)",
            (str(serial), device, not_after),
        )

    def revoke(self, device: str, now: float) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE devices SET revoked_at = ?, token_hash = NULL WHERE id = ?", (now, device)
            )
            db.execute(
                "UPDATE certs SET revoked_at = ? WHERE device = ? AND revoked_at IS NULL",
                (now, device),
            )

    def revoked_serials(self) -> list[tuple[int, float]]:
        rows = self.db.execute("SELECT serial, revoked_at FROM certs WHERE revoked_at IS NOT NULL")
        return [(int(s), float(t)) for s, t in rows]

    def cert_is_current(self, device: str, serial: int) -> bool:
        row = self.db.execute(
            "SELECT revoked_at FROM certs WHERE serial = ? AND device = ?", (str(serial), device)
        ).fetchone()
        return row is not None and row[0] is None

    def seen(
        self,
        device: str,
        when: float,
        software: str | None,
        model_version: int | None,
        config_version: int | None,
    ) -> None:
        """Record what a device reported in its status (the fleet's inventory)."""
        self.db.execute(
            "UPDATE devices SET last_seen = ?, software = COALESCE(?, software), "
            "model_version = COALESCE(?, model_version), "
            "config_version = COALESCE(?, config_version) WHERE id = ?",
            (when, software, model_version, config_version, device),
        )

    # -- config and models ------------------------------------------------------------------
    def next_counter(self, db: sqlite3.Connection, name: str) -> int:
        db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1",
            (name,),
        )
        return int(db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def scope_settings(self, scope: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT settings FROM config_scopes WHERE scope = ?", (scope,)
        ).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def set_scope_settings(
        self, db: sqlite3.Connection, scope: str, settings: dict[str, Any]
    ) -> None:
        db.execute(
            "INSERT INTO config_scopes (scope, settings) VALUES (?, ?) "
            "ON CONFLICT(scope) DO UPDATE SET settings = excluded.settings",
            (scope, json.dumps(settings, sort_keys=True)),
        )

    def store_device_config(
        self, db: sqlite3.Connection, device: str, version: int, doc: dict[str, Any]
    ) -> None:
        db.execute(
            "INSERT INTO device_configs (device, version, doc) VALUES (?, ?, ?) "
            "ON CONFLICT(device) DO UPDATE SET version = excluded.version, doc = excluded.doc",
            (device, version, json.dumps(doc, sort_keys=True)),
        )

    def device_config(self, device: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM device_configs WHERE device = ?", (device,)
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def store_model(
        self, db: sqlite3.Connection, version: int, name: str, doc: dict[str, Any], now: float
    ) -> None:
        db.execute(
            "INSERT INTO models (version, name, doc, created) VALUES (?, ?, ?, ?)",
            (version, name, json.dumps(doc, sort_keys=True), now),
        )

    def latest_model(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT doc FROM models ORDER BY version DESC LIMIT 1").fetchone()
        return dict(json.loads(row[0])) if row else None
