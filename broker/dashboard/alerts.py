"""Alerts: device offline too long, outbox dropping, sustained stress -> "offer a break".

Pure: computed from the floor, the registry and recent cue events at ``now``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from broker.accounts.roles import Principal, Role, can_see_desk
from broker.dashboard.floor import DeskLive, FloorState
from broker.dashboard.model import CueEvent, Health
from broker.dashboard.settings import DashboardSettings
from broker.dashboard.viewer_policy import ViewerPolicy


def alerts_for(
    who: Principal,
    floor: FloorState,
    registry: Iterable[Health],
    recent_cues: Iterable[CueEvent],
    settings: DashboardSettings,
    policy: ViewerPolicy,
    now: float,
) -> list[dict[str, Any]]:
    desks: dict[str, DeskLive] = {
        d.device: d for d in floor.desks() if can_see_desk(who, d.site, d.team, d.agent)
    }
    out: list[dict[str, Any]] = []
    for d in desks.values():
        if d.last_seen is not None and not floor.online(d, now):
            away = now - d.last_seen
            if away >= settings.offline_alert_min * 60:
                out.append(
                    _alert(
                        "offline", "warning", d, d.last_seen, f"offline for {int(away // 60)} min"
                    )
                )
    if who.role is Role.ADMIN:
        for h in registry:
            dh = desks.get(h.device)
            if dh is not None and h.dropped:
                out.append(
                    _alert(
                        "outbox_dropping",
                        "warning",
                        dh,
                        h.last_seen,
                        f"outbox dropped {h.dropped} messages",
                    )
                )
    if policy.sees_stress_alerts(who):
        since = now - settings.stress_alert_window_min * 60
        counts = Counter(
            c.device for c in recent_cues if c.cue == "stress" and c.state == "on" and c.ts >= since
        )
        for device, n in counts.items():
            ds = desks.get(device)
            if ds is not None and n >= settings.stress_alert_cues:
                out.append(
                    _alert(
                        "offer_break",
                        "info",
                        ds,
                        now,
                        f"{n} stress cues in {int(settings.stress_alert_window_min)} min: "
                        "offer a break",
                    )
                )
    return sorted(out, key=lambda a: (a["kind"], a["site"], a["name"]))


def _alert(kind: str, level: str, d: DeskLive, ts: float | None, text: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "level": level,
        "device": d.device,
        "name": d.name,
        "site": d.site,
        "team": d.team,
        "since": ts,
        "text": text,
    }
