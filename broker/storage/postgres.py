"""PostgreSQL backend (psycopg 3): COPY into a staging table, then one idempotent INSERT ... SELECT.

``telemetry`` is partitioned by day of ``ts`` (``telemetry_pYYYYMMDD``, created on demand before a
batch that needs it); raw retention drops whole partitions, which is instant and leaves no bloat.
Several collectors may write at once: registry rows are serialized with per-device advisory
locks taken in sorted order, and the unique key makes concurrent duplicates harmless.
"""

from __future__ import annotations

import calendar
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors, sql

from broker.storage.maintenance import DAY_S
from broker.storage.model import Message
from broker.storage.schema import POSTGRES, SCHEMA_VERSION, TELEMETRY_COLUMNS
from broker.storage.sql import SqlStore

log = logging.getLogger(__name__)

_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staging (device TEXT, boot BIGINT, seq BIGINT, site TEXT, "
    "kind TEXT, ts DOUBLE PRECISION, received DOUBLE PRECISION, call TEXT, payload TEXT) "
    "ON COMMIT DELETE ROWS"
)


def partition_name(day_start: float) -> str:
    return "telemetry_p" + time.strftime("%Y%m%d", time.gmtime(day_start))


def day_of(ts: float) -> float:
    return math.floor(ts / DAY_S) * DAY_S


class PostgresStore(SqlStore):
    """The store on a PostgreSQL database (``postgresql://user@host:port/dbname``)."""

    ph = "%s"

    def __init__(self, url: str, *, connect_timeout_s: float = 10):
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=int(connect_timeout_s))
        self._partitions: set[float] = set()
        with self._tx():
            self.conn.execute("SELECT pg_advisory_xact_lock(7263001)")  # one schema creator
            for stmt in POSTGRES:
                self.conn.execute(stmt)
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO NOTHING",
                (str(SCHEMA_VERSION),),
            )
        self.conn.execute(_STAGING)
        self._partitions = set(self.partitions())

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def partitions(self) -> list[float]:
        """Day starts of the existing ``telemetry`` partitions, oldest first."""
        rows = self.conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'telemetry'"
        ).fetchall()
        out = []
        for (name,) in rows:
            if name.startswith("telemetry_p"):
                t = time.strptime(name[len("telemetry_p") :] + "UTC", "%Y%m%d%Z")
                out.append(float(calendar.timegm(t)))
        return sorted(out)

    def _ensure_partitions(self, batch: Sequence[Message]) -> None:
        for day in sorted({day_of(m.ts) for m in batch} - self._partitions):
            stmt = sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF telemetry FOR VALUES FROM ({}) TO ({})"
            ).format(
                sql.Identifier(partition_name(day)), sql.Literal(day), sql.Literal(day + DAY_S)
            )
            for attempt in range(3):
                try:
                    self.conn.execute(stmt)
                    break
                except (errors.UniqueViolation, errors.DuplicateTable):
                    if attempt == 2:  # another collector is creating it; it exists now
                        raise
            self._partitions.add(day)

    def write(self, batch: Sequence[Message]) -> int:
        self._ensure_partitions(batch)
        return super().write(batch)

    def _insert(self, cur: Any, batch: Sequence[Message]) -> int:
        cols = ", ".join(TELEMETRY_COLUMNS)
        with cur.copy(f"COPY staging ({cols}) FROM STDIN") as copy:
            for m in batch:
                copy.write_row(
                    (m.device, m.boot, m.seq, m.site, m.kind, m.ts, m.received, m.call, m.text)
                )
        sel = ", ".join("payload::jsonb" if c == "payload" else c for c in TELEMETRY_COLUMNS)
        cur.execute(
            f"INSERT INTO telemetry ({cols}) SELECT {sel} FROM staging ON CONFLICT DO NOTHING"
        )
        n = int(cur.rowcount)
        cur.execute("DELETE FROM staging")
        return n

    def _lock_devices(self, cur: Any, devices: Sequence[str]) -> None:
        for d in devices:  # sorted by the caller: no lock-order deadlocks between collectors
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (d,))

    def _align_cutoff(self, cutoff: float) -> float:
        return day_of(cutoff)

    def _prune_raw(self, cur: Any, cutoff: float) -> int:
        n = 0
        for day in self.partitions():
            if day + DAY_S <= cutoff:
                name = sql.Identifier(partition_name(day))
                cur.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(name))
                n += int(cur.fetchone()[0])
                cur.execute(sql.SQL("DROP TABLE {}").format(name))
                self._partitions.discard(day)
        cur.execute("DELETE FROM rollup_dirty WHERE hour < %s", (cutoff - 3600,))
        return n
