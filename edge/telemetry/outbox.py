"""The disk-backed outbox: every message is stored before it is sent, deleted on its PUBACK.

SQLite in WAL mode (``synchronous=FULL``: a stored message survives a power cut) in the state
directory, one row per message keyed by ``(boot, seq)``. The publisher reads rows oldest first
(boot, then seq) and deletes a row only when the broker acknowledged it, so after a crash, a
broker restart or a network partition the unacknowledged rest is sent again, in order.

Bounded by rows, payload bytes and age (wall clock): when a limit is exceeded the *oldest* rows
are dropped, counted (``dropped``, kept in the database across restarts) and logged. One
connection serves all threads behind a lock; every operation is short.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    boot INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    created REAL NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (boot, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Limits:
    """Outbox bounds (from ``TelemetrySettings``)."""

    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    max_age_s: float = 7 * 86400.0


@dataclass(frozen=True)
class Row:
    """One stored message."""

    boot: int
    seq: int
    kind: str
    payload: bytes

    @property
    def key(self) -> tuple[int, int]:
        return (self.boot, self.seq)


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    bytes: int
    dropped: int


class Outbox:
    """The store-and-forward queue of one device (thread-safe)."""

    def __init__(
        self,
        path: Path,
        limits: Limits | None = None,
        on_stored: Callable[[int, int], None] | None = None,
    ) -> None:
        """``on_stored(boot, seq)`` is called right after a message is committed, still under
        the lock (tests use it to cut the power between storing and sending)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self._on_stored = on_stored
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA cache_size=-256")  # KiB; reads are sequential and small
        self._db.executescript(_SCHEMA)
        self._rows = 0
        self._bytes = 0
        self._recount_locked()
        got = self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        self._dropped = int(got[0]) if got else 0
        self._closed = False

    # -- writing -------------------------------------------------------------------------------

    def put(self, boot: int, seq: int, kind: str, created: float, payload: bytes) -> int:
        """Store one message (durably), then drop the oldest beyond the limits; returns how many
        were dropped now."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO outbox (boot, seq, kind, created, payload) VALUES (?, ?, ?, ?, ?)",
                    (boot, seq, kind, created, payload),
                )
                self._rows += 1
                self._bytes += len(payload)
                dropped = self._trim_locked(created - self.limits.max_age_s)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._recount_locked()
                raise
            if self._on_stored is not None:
                self._on_stored(boot, seq)
        if dropped:
            log.warning(
                "outbox full: dropped the %d oldest message(s) (%d dropped in all)",
                dropped,
                self._dropped,
            )
        return dropped

    def trim_age(self, now_wall: float) -> int:
        """Drop rows older than ``max_age_s``; returns how many."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                dropped = self._trim_locked(now_wall - self.limits.max_age_s)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._recount_locked()
                raise
        if dropped:
            log.warning(
                "outbox: dropped %d message(s) older than %.0f s", dropped, self.limits.max_age_s
            )
        return dropped

    def _trim_locked(self, oldest_created: float) -> int:
        dropped = 0
        cur = self._db.execute(
            "DELETE FROM outbox WHERE created < ? RETURNING LENGTH(payload)", (oldest_created,)
        )
        for (size,) in cur.fetchall():
            dropped += 1
            self._rows -= 1
            self._bytes -= int(size)
        while self._rows > self.limits.max_rows or self._bytes > self.limits.max_bytes:
            over_rows = max(0, self._rows - self.limits.max_rows)
            batch = max(1, min(over_rows, 500)) if over_rows else 1
            rows = self._db.execute(
                "SELECT boot, seq, LENGTH(payload) FROM outbox ORDER BY boot, seq LIMIT ?",
                (batch,),
            ).fetchall()
            if not rows:
                break
            for boot, seq, size in rows:
                if self._rows <= self.limits.max_rows and self._bytes <= self.limits.max_bytes:
                    break
                self._db.execute("DELETE FROM outbox WHERE boot = ? AND seq = ?", (boot, seq))
                dropped += 1
                self._rows -= 1
                self._bytes -= int(size)
        if dropped:
            self._dropped += dropped
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('dropped', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (self._dropped,),
            )
        return dropped

    def _recount_locked(self) -> None:
        n, b = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox"
        ).fetchone()
        self._rows, self._bytes = int(n), int(b)

    def ack(self, boot: int, seq: int) -> bool:
        """Delete a message the broker acknowledged; False if it was no longer there."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE boot = ? AND seq = ? RETURNING LENGTH(payload)",
                (boot, seq),
            )
            got = cur.fetchone()
            cur.fetchall()
            if got is None:
                return False
            self._rows -= 1
            self._bytes -= int(got[0])
            return True

    # -- reading -------------------------------------------------------------------------------

    def after(self, key: tuple[int, int] | None, limit: int) -> list[Row]:
        """Up to ``limit`` rows after ``key`` (exclusive; None: from the oldest), in order."""
        b, s = key if key is not None else (-1, -1)
        with self._lock:
            rows = self._db.execute(
                "SELECT boot, seq, kind, payload FROM outbox WHERE (boot, seq) > (?, ?) "
                "ORDER BY boot, seq LIMIT ?",
                (b, s, limit),
            ).fetchall()
        return [Row(int(r[0]), int(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    def max_boot(self) -> int:
        """Highest boot number still stored (0 if empty)."""
        with self._lock:
            got = self._db.execute("SELECT MAX(boot) FROM outbox").fetchone()
        return int(got[0]) if got and got[0] is not None else 0

    def max_seq(self, boot: int) -> int | None:
        """Highest seq stored for ``boot`` (None if none)."""
        with self._lock:
            got = self._db.execute("SELECT MAX(seq) FROM outbox WHERE boot = ?", (boot,)).fetchone()
        return int(got[0]) if got and got[0] is not None else None

    def stats(self) -> OutboxStats:
        return OutboxStats(self._rows, self._bytes, self._dropped)

    @property
    def depth(self) -> int:
        return self._rows

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
