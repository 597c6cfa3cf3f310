"""The query API shared by both backends (:class:`SqlStore`); backends add connection and bulk I/O.

Writing: :meth:`SqlStore.write` stores one batch in ONE transaction (insert-or-ignore on the
unique key, registry merge, rollup bookkeeping) and returns only after it has committed, so the
caller may acknowledge the batch to the broker. Reading (for ``poise collector gaps`` and the
dashboard): :meth:`registry`, :meth:`floor`, :meth:`series`, :meth:`events`, :meth:`rollups`,
:meth:`gaps`, :meth:`counts`. Maintenance (rollups, retention):
:mod:`broker.storage.maintenance`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from broker.storage import registry, rollup
from broker.storage.maintenance import Maintenance
from broker.storage.model import DeviceRow, FloorRow, Gap, Message, Point, Rollup
from broker.storage.schema import DEVICE_COLUMNS, DEVICE_HOUR, POINT_SELECT, dumps
from edge.telemetry.envelope import FIRST_SEQ

log = logging.getLogger(__name__)

_DEVICES = f"SELECT {', '.join(DEVICE_COLUMNS)} FROM devices"


def filters(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """`` AND <column op> ?`` for each ``(column op, value)`` whose value is not None, and those
    values in order (the optional filters of the reading queries)."""
    used = [(cond, value) for cond, value in conditions if value is not None]
    return "".join(f" AND {cond} ?" for cond, _ in used), [value for _, value in used]


class SqlStore(Maintenance):
    """Common SQL of both backends. Subclasses set ``ph`` and implement the ``_``-hooks
    (maintenance: :class:`~broker.storage.maintenance.Maintenance`)."""

    #: DB-API placeholder of the driver.
    ph = "?"
    #: First seq of a boot under the telemetry contract (for leading gaps).
    first_seq = FIRST_SEQ

    conn: Any

    # -- hooks -------------------------------------------------------------------------------
    def _insert(self, cur: Any, batch: Sequence[Message]) -> int:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[Any]:
        """A context manager around one transaction (commit on success, roll back on error)."""
        raise NotImplementedError

    def _lock_devices(self, cur: Any, devices: Sequence[str]) -> None:
        """Serialize registry updates of these devices against other writers (if any)."""

    def _load_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    def _json_param(self, value: Any) -> Any:
        return None if value is None else dumps(value)

    def _upsert_sql(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        cols = ", ".join(columns)
        vals = ", ".join(self.ph for _ in columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        return (
            f"INSERT INTO {table} ({cols}) VALUES ({vals}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
        )

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.ph)

    def close(self) -> None:
        self.conn.close()

    # -- writing -----------------------------------------------------------------------------
    def write(self, batch: Sequence[Message]) -> int:
        """Store a batch in one transaction; return how many stream rows were new (the rest
        existed already). Status messages go to the registry and ``status_log``."""
        if not batch:
            return 0
        by_device: dict[str, list[Message]] = {}
        for m in batch:
            by_device.setdefault(m.device, []).append(m)
        devices = sorted(by_device)
        dirty = sorted(
            {(m.device, rollup.hour_of(m.ts)) for m in batch if m.kind in ("metrics", "events")}
        )
        with self._tx():
            cur = self.conn.cursor()
            stream = [m for m in batch if m.kind != "status"]
            inserted = self._insert(cur, stream) if stream else 0
            status = [m for m in batch if m.kind == "status"]
            if status:
                self._insert_status(cur, status)
            self._lock_devices(cur, devices)
            current = self._registry_states(cur, devices)
            rows = []
            for d in devices:
                st = registry.merge(current.get(d), by_device[d])
                rows.append(self._device_params(st))
            cur.executemany(self._upsert_sql("devices", DEVICE_COLUMNS, ("device",)), rows)
            if dirty:
                now = time.time()
                cur.executemany(
                    self._upsert_sql("rollup_dirty", ("device", "hour", "marked"), DEVICE_HOUR),
                    [(d, h, now) for d, h in dirty],
                )
        return inserted

    def _insert_status(self, cur: Any, status: Sequence[Message]) -> None:
        cur.executemany(
            self._q(
                "INSERT INTO status_log (device, boot, seq, state, site, ts, received, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            ),
            [
                (
                    m.device,
                    m.boot,
                    m.seq,
                    str(m.body.get("state")),
                    m.site,
                    m.ts,
                    m.received,
                    m.text,
                )
                for m in status
            ],
        )

    def status_history(self, device: str, limit: int = 100) -> list[Point]:
        """A device's status messages (online/offline), newest first."""
        return self._points(
            "SELECT device, 'status', boot, seq, ts, payload FROM status_log WHERE device = ? "
            f"ORDER BY ts DESC, boot DESC, seq DESC LIMIT {int(limit)}",
            (device,),
        )

    def _device_params(self, st: registry.RegistryState) -> tuple[Any, ...]:
        r = st.row
        sk = st.status_key or (None, None)
        hk = st.health_key or (None, None)
        return (
            r.device,
            r.site,
            r.first_seen,
            r.last_seen,
            r.online,
            r.status_ts,
            sk[0],
            sk[1],
            r.boot,
            r.software,
            r.model,
            r.model_sha256,
            r.config_version,
            r.policy_profile,
            r.status_reason,
            r.agent,
            self._json_param(r.detectors),
            self._json_param(r.health),
            r.health_ts,
            hk[0],
            hk[1],
        )

    def _registry_states(
        self, cur: Any, devices: Sequence[str]
    ) -> dict[str, registry.RegistryState]:
        out: dict[str, registry.RegistryState] = {}
        if not devices:
            return out
        marks = ", ".join(self.ph for _ in devices)
        cur.execute(f"{_DEVICES} WHERE device IN ({marks})", list(devices))
        for rec in cur.fetchall():
            d = dict(zip(DEVICE_COLUMNS, rec, strict=True))
            sk = (d["status_boot"], d["status_seq"]) if d["status_boot"] is not None else None
            hk = (d["health_boot"], d["health_seq"]) if d["health_boot"] is not None else None
            out[d["device"]] = registry.RegistryState(self._device_row(d), sk, hk)
        return out

    def _device_of(self, rec: Sequence[Any]) -> DeviceRow:
        """A ``devices`` row (columns as :data:`DEVICE_COLUMNS`) as a :class:`DeviceRow`."""
        return self._device_row(dict(zip(DEVICE_COLUMNS, rec, strict=True)))

    def _device_row(self, d: dict[str, Any]) -> DeviceRow:
        return DeviceRow(
            device=d["device"],
            site=d["site"],
            first_seen=d["first_seen"],
            last_seen=d["last_seen"],
            online=None if d["online"] is None else bool(d["online"]),
            status_ts=d["status_ts"],
            boot=d["boot"],
            software=d["software"],
            model=d["model"],
            model_sha256=d["model_sha256"],
            config_version=d["config_version"],
            policy_profile=d["policy_profile"],
            status_reason=d["status_reason"],
            agent=d["agent"],
            detectors=self._load_json(d["detectors"]) if d["detectors"] is not None else None,
            health=self._load_json(d["health"]) if d["health"] is not None else None,
            health_ts=d["health_ts"],
        )

    # -- reading -----------------------------------------------------------------------------
    def registry(self, site: str | None = None) -> list[DeviceRow]:
        """Every device (optionally of one site), ordered by site and device id."""
        where, params = filters(("site =", site))
        cur = self.conn.cursor()
        cur.execute(self._q(f"{_DEVICES} WHERE 1 = 1{where} ORDER BY site, device"), params)
        return [self._device_of(r) for r in cur.fetchall()]

    def device(self, device: str) -> DeviceRow | None:
        """One registry row, or None if the device never sent anything."""
        cur = self.conn.cursor()
        cur.execute(self._q(f"{_DEVICES} WHERE device = ?"), [device])
        r = cur.fetchone()
        return self._device_of(r) if r else None

    def _points(self, sql: str, params: Sequence[Any]) -> list[Point]:
        cur = self.conn.cursor()
        cur.execute(self._q(sql), list(params))
        return [
            Point(device=d, kind=k, boot=b, seq=s, ts=t, body=self._load_json(p))
            for d, k, b, s, t, p in cur.fetchall()
        ]

    def latest(self, device: str, kind: str) -> Point | None:
        """The newest stored message of one kind from one device (by device time)."""
        pts = self._points(
            f"{POINT_SELECT} WHERE device = ? AND kind = ? "
            "ORDER BY ts DESC, boot DESC, seq DESC LIMIT 1",
            (device, kind),
        )
        return pts[0] if pts else None

    def floor(self, site: str | None = None) -> list[FloorRow]:
        """Per device: registry row, latest metrics window and latest event."""
        return [
            FloorRow(d, self.latest(d.device, "metrics"), self.latest(d.device, "events"))
            for d in self.registry(site)
        ]

    def series(
        self,
        device: str,
        kind: str = "metrics",
        since: float | None = None,
        until: float | None = None,
        limit: int = 10_000,
    ) -> list[Point]:
        """Messages of one kind from one device with since <= ts < until, oldest first."""
        where, params = filters(("ts >=", since), ("ts <", until))
        return self._points(
            f"{POINT_SELECT} WHERE device = ? AND kind = ?{where} ORDER BY ts, boot, seq "
            f"LIMIT {int(limit)}",
            [device, kind, *params],
        )

    def events(
        self, device: str | None = None, since: float | None = None, limit: int = 1000
    ) -> list[Point]:
        """Newest events first (of one device or all), with ts >= since."""
        where, params = filters(("device =", device), ("ts >=", since))
        return self._points(
            f"{POINT_SELECT} WHERE kind = 'events'{where} "
            f"ORDER BY ts DESC, boot DESC, seq DESC LIMIT {int(limit)}",
            params,
        )

    def rollups(
        self, device: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[Rollup]:
        """Hourly rollups with since <= hour < until, by device then hour."""
        where, params = filters(("device =", device), ("hour >=", since), ("hour <", until))
        cur = self.conn.cursor()
        cur.execute(
            self._q(
                "SELECT device, hour, windows, fields, events FROM rollups "
                f"WHERE 1 = 1{where} ORDER BY device, hour"
            ),
            params,
        )
        return [
            Rollup(d, h, int(w), self._load_json(f), self._load_json(e))
            for d, h, w, f, e in cur.fetchall()
        ]

    def gaps(self, device: str | None = None) -> list[Gap]:
        """Per device and boot, the missing seq runs between the first seq and the newest stored.

        Messages not yet sent or still in a device's outbox after its newest stored one cannot be
        seen here; everything before it that is missing is reported.
        """
        where = "WHERE device = ?" if device is not None else ""
        params: list[Any] = [device] if device is not None else []
        inner = (
            "SELECT t.device, t.boot, t.seq, LAG(t.seq) OVER "
            "(PARTITION BY t.device, t.boot ORDER BY t.seq) AS prev "
            f"FROM telemetry t {where.replace('device', 't.device')}"
        )
        mids = f"SELECT device, boot, prev + 1, seq - 1 FROM ({inner}) w WHERE seq > prev + 1"
        leading = (
            f"SELECT t.device, t.boot, COALESCE(f.from_seq, {int(self.first_seq)}), MIN(t.seq) - 1 "
            "FROM telemetry t LEFT JOIN seq_floor f ON f.device = t.device AND f.boot = t.boot "
            f"{where.replace('device', 't.device')} GROUP BY t.device, t.boot, f.from_seq "
            f"HAVING MIN(t.seq) > COALESCE(f.from_seq, {int(self.first_seq)})"
        )
        cur = self.conn.cursor()
        cur.execute(self._q(f"{mids} UNION ALL {leading} ORDER BY 1, 2, 3"), params + params)
        return [Gap(d, int(b), int(a), int(z)) for d, b, a, z in cur.fetchall()]

    def counts(self) -> dict[str, int]:
        """Row counts: ``rows`` stored, ``keys`` distinct (device, boot, seq), ``devices``."""
        cur = self.conn.cursor()
        cur.execute("SELECT COUNT(*) FROM telemetry")
        rows = int(cur.fetchone()[0])
        cur.execute("SELECT COUNT(*) FROM (SELECT DISTINCT device, boot, seq FROM telemetry) k")
        keys = int(cur.fetchone()[0])
        cur.execute("SELECT COUNT(*) FROM devices")
        devices = int(cur.fetchone()[0])
        return {"rows": rows, "keys": keys, "devices": devices}


def chunks(items: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
