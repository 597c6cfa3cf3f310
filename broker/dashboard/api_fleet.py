"""/api/v1/fleet (admin/IT: health, versions, seq gaps) and /api/v1/alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel

from broker.accounts.roles import Principal, can_see_fleet
from broker.dashboard.alerts import alerts_for
from broker.dashboard.auth import require_principal
from broker.dashboard.context import Ctx, ctx_of
from broker.dashboard.csv_export import csv_response

router = APIRouter(prefix="/api/v1", tags=["fleet"])
Who = Annotated[Principal, Depends(require_principal)]
C = Annotated[Ctx, Depends(ctx_of)]


class Device(BaseModel):
    device: str
    name: str
    site: str
    online: bool
    stale: bool
    last_seen: float | None
    software: str | None
    model: str | None
    config_version: str | None
    policy_profile: str | None
    boot: int | None
    outbox_depth: int | None
    dropped: int | None
    cpu_temp_c: float | None
    overflows: int | None
    gaps: int
    missing: int
    unhealthy: list[str]


class GapOut(BaseModel):
    device: str
    boot: int
    first: int
    last: int


class Alert(BaseModel):
    kind: str
    level: str
    device: str
    name: str
    site: str
    team: str | None
    since: float | None
    text: str


HOT_C = 75.0
"""CPU temperature (°C) from which a device is flagged."""


def _admin(who: Principal) -> None:
    if not can_see_fleet(who):
        raise HTTPException(status_code=403, detail="the fleet view is for admins")


def fleet_rows(ctx: Ctx) -> list[dict[str, Any]]:
    now = ctx.wall_clock()
    gaps: dict[str, list[int]] = {}
    for g in ctx.store.gaps():
        gaps.setdefault(g.device, []).append(g.last - g.first + 1)
    out = []
    for h in ctx.store.registry():
        live = ctx.floor.get(h.device)
        online = ctx.floor.online(live, now) if live else False
        stale = h.online and not online
        bad = []
        if not online:
            bad.append("offline")
        if h.dropped:
            bad.append("dropping")
        if h.cpu_temp_c is not None and h.cpu_temp_c >= HOT_C:
            bad.append("hot")
        if h.overflows:
            bad.append("overflows")
        if h.device in gaps:
            bad.append("gaps")
        out.append(
            {
                "device": h.device,
                "name": live.name if live else h.device,
                "site": h.site,
                "online": online,
                "stale": stale,
                "last_seen": h.last_seen,
                "software": h.software,
                "model": h.model,
                "config_version": h.config_version,
                "policy_profile": h.policy_profile,
                "boot": h.boot,
                "outbox_depth": h.outbox_depth,
                "dropped": h.dropped,
                "cpu_temp_c": h.cpu_temp_c,
                "overflows": h.overflows,
                "gaps": len(gaps.get(h.device, [])),
                "missing": sum(gaps.get(h.device, [])),
                "unhealthy": bad,
            }
        )
    return out


@router.get("/fleet", response_model=list[Device])
def fleet(who: Who, ctx: C) -> list[dict[str, Any]]:
    """Every device: online, last seen, versions, outbox, drops, temperature, overflows, gaps."""
    _admin(who)
    return fleet_rows(ctx)


@router.get("/fleet.csv", response_class=Response)
def fleet_csv(who: Who, ctx: C) -> Response:
    _admin(who)
    return csv_response("fleet.csv", list(Device.model_fields), fleet_rows(ctx))


@router.get("/fleet/gaps", response_model=list[GapOut])
def gaps(who: Who, ctx: C) -> list[dict[str, Any]]:
    """Missing seq ranges per device and boot (as ``poise collector gaps``)."""
    _admin(who)
    return [vars(g) for g in ctx.store.gaps()]


def alert_rows(ctx: Ctx, who: Principal) -> list[dict[str, Any]]:
    now = ctx.wall_clock()
    since = now - ctx.settings.stress_alert_window_min * 60
    cues = ctx.store.cue_events(None, since, now + 1) if ctx.policy.sees_stress_alerts(who) else []
    return alerts_for(who, ctx.floor, ctx.store.registry(), cues, ctx.settings, ctx.policy, now)


@router.get("/alerts", response_model=list[Alert])
def alerts(who: Who, ctx: C) -> list[dict[str, Any]]:
    """Offline too long, outbox dropping (admins), "offer a break" (where policy allows)."""
    return alert_rows(ctx, who)


@router.get("/alerts.csv", response_class=Response)
def alerts_csv(who: Who, ctx: C) -> Response:
    return csv_response("alerts.csv", list(Alert.model_fields), alert_rows(ctx, who))
