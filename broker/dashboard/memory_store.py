"""A :class:`~broker.dashboard.store.DashboardStore` in memory, fed with contract payloads.

For tests and the hub-only demo; the collector's database adapter answers the same reads.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from typing import Any

from broker.dashboard.model import CueEvent, Gap, Health, Window
from broker.dashboard.telemetry import cue_from_event, payload_ts, window_from_metrics


class MemoryStore:
    """Keeps every window and cue event, the registry and the seqs seen per (device, boot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registry: dict[str, Health] = {}
        self._windows: dict[str, list[Window]] = {}
        self._cues: list[CueEvent] = []
        self._seqs: dict[tuple[str, int], set[int]] = {}

    def ingest(self, kind: str, site: str, device: str, payload: Mapping[str, Any]) -> None:
        """Store one (validated) payload; signature matches a hub subscriber."""
        ts = payload_ts(payload)
        with self._lock:
            h = self._registry.get(device) or Health(device, site, False, None)
            if kind == "status":
                model = payload.get("model") or {}
                h = Health(
                    device,
                    site,
                    payload.get("state") == "online",
                    max(h.last_seen or ts, ts),
                    software=payload.get("software"),
                    model=model.get("name"),
                    config_version=None
                    if payload.get("config_version") is None
                    else str(payload["config_version"]),
                    policy_profile=payload.get("policy_profile"),
                    agent=payload.get("agent") or h.agent,
                    outbox_depth=h.outbox_depth,
                    dropped=h.dropped,
                    cpu_temp_c=h.cpu_temp_c,
                    overflows=h.overflows,
                    boot=payload.get("boot"),
                )
            else:
                self._seqs.setdefault((device, int(payload["boot"])), set()).add(
                    int(payload["seq"])
                )
                upd: dict[str, Any] = {"last_seen": max(h.last_seen or ts, ts), "online": True}
                if kind == "health":
                    upd.update(
                        outbox_depth=payload["outbox"]["depth"],
                        dropped=payload["outbox"]["dropped"],
                        cpu_temp_c=payload.get("cpu_temp_c"),
                        overflows=payload["audio"]["overflows"],
                    )
                elif kind == "metrics":
                    w = window_from_metrics(payload)
                    rows = self._windows.setdefault(device, [])
                    bisect.insort(rows, w, key=lambda r: r.ts)
                    if w.agent:
                        upd["agent"] = w.agent
                elif kind == "events":
                    cue = cue_from_event(payload)
                    if cue is not None:
                        bisect.insort(self._cues, cue, key=lambda r: r.ts)
                h = Health(**{**vars(h), **upd})
            self._registry[device] = h

    def registry(self) -> list[Health]:
        with self._lock:
            return sorted(self._registry.values(), key=lambda h: h.device)

    def windows(self, device: str, since: float, until: float) -> list[Window]:
        with self._lock:
            return [w for w in self._windows.get(device, []) if since <= w.ts < until]

    def cue_events(self, device: str | None, since: float, until: float) -> list[CueEvent]:
        with self._lock:
            return [
                c
                for c in self._cues
                if since <= c.ts < until and (device is None or c.device == device)
            ]

    def gaps(self) -> list[Gap]:
        out = []
        with self._lock:
            for (device, boot), seqs in sorted(self._seqs.items()):
                prev = -1
                for s in sorted(seqs):
                    if s > prev + 1:
                        out.append(Gap(device, boot, prev + 1, s - 1))
                    prev = s
        return out
