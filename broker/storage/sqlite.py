"""SQLite backend: one WAL-mode file, batched transactions, insert-or-ignore on (device, boot, seq).

The embedded default (``sqlite:///path/collector.db``) for one collector. ``synchronous=FULL`` by
default: a batch acknowledged to the broker survives a power cut, not only a crash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from broker.storage.model import Message
from broker.storage.schema import SCHEMA_VERSION, SQLITE, TELEMETRY_COLUMNS
from broker.storage.sql import SqlStore


class SqliteStore(SqlStore):
    """The store on one SQLite file."""

    ph = "?"

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", busy_timeout_s: float = 30):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self._tx():
            for stmt in SQLITE:
                self.conn.execute(stmt)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _insert(self, cur: Any, batch: Sequence[Message]) -> int:
        cols = ", ".join(TELEMETRY_COLUMNS)
        marks = ", ".join("?" for _ in TELEMETRY_COLUMNS)
        cur.executemany(
            f"INSERT OR IGNORE INTO telemetry ({cols}) VALUES ({marks})",
            [
                (m.device, m.boot, m.seq, m.site, m.kind, m.ts, m.received, m.call, m.text)
                for m in batch
            ],
        )
        return int(cur.rowcount)

    def _prune_raw(self, cur: Any, cutoff: float) -> int:
        cur.execute("DELETE FROM telemetry WHERE ts < ?", (cutoff,))
        n = int(cur.rowcount)
        cur.execute("DELETE FROM rollup_dirty WHERE hour < ?", (cutoff - 3600,))
        return n
