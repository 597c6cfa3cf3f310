"""Rollups and retention of the store (:class:`Maintenance`, a part of
:class:`~broker.storage.sql.SqlStore`): ``maintain(now, Retention)`` recomputes the hourly rollups
written to since they were last computed, then deletes raw rows and rollups past retention, keeping
per (device, boot) the first seq still stored so that deleted data is not reported as a gap."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from broker.storage import rollup
from broker.storage.schema import DEVICE_HOUR, POINT_SELECT, dumps

if TYPE_CHECKING:
    from broker.storage.model import Point

DAY_S = 86400.0
_ROLLUP_COLUMNS = ("device", "hour", "windows", "fields", "events")


@dataclass(frozen=True)
class Retention:
    """How long to keep what (days)."""

    raw_days: float = 30.0
    """Raw messages (windows, events, health, status) older than this are deleted."""
    rollup_days: float = 730.0
    """Hourly rollups older than this are deleted."""


class Maintenance:
    """The maintenance half of :class:`~broker.storage.sql.SqlStore` (its connection,
    transactions and queries); backends implement :meth:`_prune_raw`."""

    conn: Any

    if TYPE_CHECKING:  # provided by SqlStore

        def _tx(self) -> AbstractContextManager[Any]: ...

        def _q(self, sql: str) -> str: ...

        def _points(self, sql: str, params: Sequence[Any]) -> list[Point]: ...

        def _upsert_sql(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str: ...

    def _prune_raw(self, cur: Any, cutoff: float) -> int:
        """Delete raw rows with ts < cutoff; return how many."""
        raise NotImplementedError

    def _align_cutoff(self, cutoff: float) -> float:
        """The retention cutoff the backend can apply exactly (PostgreSQL: a partition bound)."""
        return cutoff

    def maintain(self, now: float, retention: Retention) -> dict[str, int]:
        """Recompute dirty rollups, then apply retention. Returns what it did (counts)."""
        n_roll = self.compute_rollups()
        with self._tx():
            cur = self.conn.cursor()
            raw_cutoff = self._align_cutoff(now - retention.raw_days * DAY_S)
            cur.execute(
                self._q(
                    "SELECT device, boot, MAX(seq) + 1 FROM telemetry WHERE ts < ? "
                    "GROUP BY device, boot"
                ),
                [raw_cutoff],
            )
            floors = cur.fetchall()
            if floors:
                cur.executemany(
                    self._q(
                        "INSERT INTO seq_floor (device, boot, from_seq) VALUES (?, ?, ?) "
                        "ON CONFLICT (device, boot) DO UPDATE SET from_seq = excluded.from_seq "
                        "WHERE excluded.from_seq > seq_floor.from_seq"
                    ),
                    floors,
                )
            pruned = self._prune_raw(cur, raw_cutoff)
            cur.execute(
                self._q("DELETE FROM rollups WHERE hour < ?"),
                [now - retention.rollup_days * DAY_S],
            )
        return {"rollups": n_roll, "raw_deleted": pruned}

    def compute_rollups(self) -> int:
        """Recompute the rollup of every device-hour written since it was last computed."""
        cur = self.conn.cursor()
        cur.execute("SELECT device, hour, marked FROM rollup_dirty ORDER BY device, hour")
        dirty = cur.fetchall()
        for device, hour, marked in dirty:
            pts = self._points(
                f"{POINT_SELECT} WHERE device = ? AND kind IN ('metrics', 'events') "
                "AND ts >= ? AND ts < ?",
                (device, hour, hour + rollup.HOUR_S),
            )
            r = rollup.rollup(
                device,
                hour,
                (p for p in pts if p.kind == "metrics"),
                (p for p in pts if p.kind == "events"),
            )
            with self._tx():
                c = self.conn.cursor()
                c.execute(
                    self._upsert_sql("rollups", _ROLLUP_COLUMNS, DEVICE_HOUR),
                    (device, hour, r.windows, dumps(r.fields), dumps(r.events)),
                )
                c.execute(
                    self._q(
                        "DELETE FROM rollup_dirty WHERE device = ? AND hour = ? AND marked = ?"
                    ),
                    (device, hour, marked),
                )
        return len(dirty)
