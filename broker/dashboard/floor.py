"""The live floor: one tile per desk, kept current from the telemetry the collector ingests.

Pure state (no I/O): :meth:`FloorState.apply` takes one contract payload; :meth:`FloorState.tile`
renders a desk for a viewer under a :class:`~broker.dashboard.viewer_policy.ViewerPolicy`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from broker.accounts.roles import Principal, can_see_desk
from broker.dashboard.model import Desk, Health
from broker.dashboard.telemetry import payload_ts
from broker.dashboard.viewer_policy import ViewerPolicy

PACE_BAND = 0.15
"""Pace within +-15 % of the agent's baseline articulation rate reads as "steady"."""


@dataclass
class DeskLive:
    """Mutable live state of one desk."""

    device: str
    site: str
    name: str
    team: str | None = None
    agent: str | None = None
    status_online: bool | None = None
    last_seen: float | None = None
    call: str | None = None
    call_started: float | None = None
    cue: str | None = None
    cue_since: float | None = None
    pace_ratio: float | None = None
    version: int = 0


def pace_label(ratio: float | None) -> str:
    if ratio is None:
        return "unknown"
    if ratio > 1 + PACE_BAND:
        return "fast"
    if ratio < 1 - PACE_BAND:
        return "slow"
    return "steady"


class FloorState:
    """Every desk's live state; thread-safe (the collector thread applies, the web loop reads)."""

    def __init__(self, stale_after_s: float = 180.0) -> None:
        self.stale_after_s = stale_after_s
        self._desks: dict[str, DeskLive] = {}
        self._lock = threading.Lock()
        self.generation = 0
        """Bumped whenever a desk is added (live streams then recompute who sees what)."""

    def load(self, desks: Iterable[Desk], health: Iterable[Health]) -> None:
        """Seed from the store: the desk directory and the registry."""
        with self._lock:
            self.generation += 1
            for d in desks:
                live = self._desks.setdefault(d.device, DeskLive(d.device, d.site, d.name))
                live.site, live.name, live.team = d.site, d.name, d.team
                live.agent = d.agent or live.agent
            for h in health:
                live = self._desks.setdefault(h.device, DeskLive(h.device, h.site, h.device))
                live.status_online = h.online
                live.last_seen = h.last_seen
                live.agent = live.agent or h.agent

    def set_desk(self, desk: Desk) -> None:
        self.load([desk], [])

    def apply(self, kind: str, site: str, device: str, payload: Mapping[str, Any]) -> str | None:
        """Fold one payload in; returns the device id when its tile changed."""
        ts = payload_ts(payload)
        with self._lock:
            live = self._desks.get(device)
            if live is None:
                live = self._desks[device] = DeskLive(device, site, device)
                self.generation += 1
            live.version += 1
            if payload.get("agent"):
                live.agent = str(payload["agent"])
            if kind == "status":
                live.status_online = payload.get("state") == "online"
                if not live.status_online:
                    live.call, live.call_started, live.cue = None, None, None
                else:
                    live.last_seen = max(live.last_seen or ts, ts)
                return device
            live.last_seen = max(live.last_seen or ts, ts)
            if live.status_online is False:
                live.status_online = True
            if kind == "metrics":
                call = payload.get("call")
                if call != live.call:
                    live.call = call
                    dur = payload.get("duration_s") or 0.0
                    live.call_started = ts - float(dur) if call else None
                side = payload.get("agent_side") or {}
                base = payload.get("baseline") or {}
                rate, ref = side.get("articulation_rate_sps"), base.get("articulation_rate_sps")
                if isinstance(rate, int | float) and isinstance(ref, int | float) and ref > 0:
                    live.pace_ratio = float(rate) / float(ref)
            elif kind == "events":
                ev = payload.get("event") or {}
                etype = ev.get("type")
                if etype in ("cue", "drift") and "cue" in ev:
                    if ev.get("state", "on") == "on":
                        live.cue, live.cue_since = str(ev["cue"]), ts
                    elif live.cue == ev["cue"]:
                        live.cue, live.cue_since = None, None
                elif etype == "call":
                    if ev.get("state") == "start":
                        live.call, live.call_started = payload.get("call"), ts
                    else:
                        live.call, live.call_started, live.cue = None, None, None
            return device

    def desks(self) -> list[DeskLive]:
        with self._lock:
            return [DeskLive(**vars(d)) for d in self._desks.values()]

    def get(self, device: str) -> DeskLive | None:
        with self._lock:
            d = self._desks.get(device)
            return DeskLive(**vars(d)) if d else None

    def online(self, d: DeskLive, now: float) -> bool:
        if d.status_online is False or d.last_seen is None:
            return False
        return now - d.last_seen <= self.stale_after_s

    def tile(self, d: DeskLive, who: Principal, policy: ViewerPolicy, now: float) -> dict[str, Any]:
        """A desk as the floor page draws it (only cue kinds the viewer may see)."""
        online = self.online(d, now)
        cue = d.cue if online and d.cue and policy.sees_cue(who, d.cue) else None
        in_call = online and d.call is not None
        return {
            "device": d.device,
            "name": d.name,
            "site": d.site,
            "team": d.team,
            "agent": d.agent,
            "online": online,
            "last_seen": d.last_seen,
            "in_call": in_call,
            "call_started": d.call_started if in_call else None,
            "call_s": round(now - d.call_started, 1) if in_call and d.call_started else None,
            "cue": cue,
            "cue_since": d.cue_since if cue else None,
            "pace_ratio": round(d.pace_ratio, 3) if d.pace_ratio is not None else None,
            "pace": pace_label(d.pace_ratio),
        }

    def visible(
        self, who: Principal, site: str | None = None, team: str | None = None
    ) -> list[DeskLive]:
        """The desks ``who`` may see, optionally narrowed to a site and/or team, by name."""
        out = [
            d
            for d in self.desks()
            if can_see_desk(who, d.site, d.team, d.agent)
            and (site is None or d.site == site)
            and (team is None or d.team == team)
        ]
        return sorted(out, key=lambda d: (d.site, d.team or "", d.name, d.device))
