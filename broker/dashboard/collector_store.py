"""The collector's database (``broker.storage``) read as a dashboard store.

Each web worker thread opens its own connection to the same URL (SQLite in WAL mode lets readers
run beside the collector's writer; PostgreSQL connections are not shared between threads).
Spans longer than ``raw_span_s`` read the collector's hourly rollups instead of raw windows.
"""

from __future__ import annotations

import threading
from typing import Any

from broker.dashboard.model import CueEvent, Gap, Health, Window
from broker.dashboard.telemetry import cue_from_event, window_from_metrics
from broker.storage import SqlStore, open_store
from broker.storage.model import DeviceRow, Rollup

MAX_WINDOWS = 20_000
"""At most this many raw windows per read (about 55 h of 10 s windows)."""
MAX_EVENTS = 10_000


def health_of(d: DeviceRow) -> Health:
    h: dict[str, Any] = d.health or {}
    outbox, audio = h.get("outbox") or {}, h.get("audio") or {}
    return Health(
        device=d.device,
        site=d.site,
        online=bool(d.online) if d.online is not None else True,
        last_seen=d.last_seen,
        software=d.software,
        model=d.model,
        config_version=None if d.config_version is None else str(d.config_version),
        policy_profile=d.policy_profile,
        agent=d.agent,
        outbox_depth=outbox.get("depth"),
        dropped=outbox.get("dropped"),
        cpu_temp_c=h.get("cpu_temp_c"),
        overflows=audio.get("overflows"),
        boot=d.boot,
    )


def window_of_rollup(r: Rollup) -> Window:
    """One hour of windows as one point: mean rates, summed seconds and counts."""

    def mean(path: str) -> float | None:
        return r.mean(path)

    def total(path: str) -> float:
        f = r.fields.get(path)
        return float(f["sum"]) if f else 0.0

    cues = {k.split(".", 1)[1]: n for k, n in r.events.items() if k.startswith(("cue.", "drift."))}
    return Window(
        ts=r.hour + 1800.0,
        call=None,
        agent=None,
        duration_s=total("duration_s"),
        speech_rate_sps=mean("agent_side.speech_rate_sps"),
        articulation_rate_sps=mean("agent_side.articulation_rate_sps"),
        baseline_articulation_sps=mean("baseline.articulation_rate_sps"),
        pitch_sd_st=mean("agent_side.pitch_sd_st"),
        arousal=mean("agent_side.arousal"),
        agent_talk_s=total("conversation.agent_talk_s"),
        customer_talk_s=total("conversation.customer_talk_s"),
        overlap_s=total("conversation.overlap_s"),
        dead_air_s=total("conversation.dead_air_s"),
        interruptions_by_agent=int(total("conversation.interruptions_by_agent")),
        interruptions_by_customer=int(total("conversation.interruptions_by_customer")),
        cues=cues,
    )


class CollectorStore:
    """Dashboard reads over ``broker.storage`` (thread-local connections to ``url``)."""

    def __init__(self, url: str, raw_span_s: float = 2 * 86400.0) -> None:
        self.url = url
        self.raw_span_s = raw_span_s
        self._local = threading.local()
        self._all: list[SqlStore] = []
        self._lock = threading.Lock()
        self._db()  # fail early on a bad URL

    def _db(self) -> SqlStore:
        db: SqlStore | None = getattr(self._local, "db", None)
        if db is None:
            db = open_store(self.url, sqlite_synchronous="NORMAL")
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()

    def registry(self) -> list[Health]:
        return [health_of(d) for d in self._db().registry()]

    def windows(self, device: str, since: float, until: float) -> list[Window]:
        if until - since > self.raw_span_s:
            return [window_of_rollup(r) for r in self._db().rollups(device, since, until)]
        pts = self._db().series(device, "metrics", since, until, limit=MAX_WINDOWS)
        return [window_from_metrics(p.body) for p in pts]

    def cue_events(self, device: str | None, since: float, until: float) -> list[CueEvent]:
        out = []
        for p in self._db().events(device, since, limit=MAX_EVENTS):
            if p.ts < until and (c := cue_from_event(p.body)) is not None:
                out.append(c)
        out.reverse()
        return out

    def gaps(self) -> list[Gap]:
        return [Gap(g.device, g.boot, g.first, g.last) for g in self._db().gaps()]
