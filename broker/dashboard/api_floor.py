"""/api/v1: who am I, the floor (JSON, CSV, live stream) and team aggregates."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from broker.accounts.roles import Principal, Role
from broker.dashboard.auth import require_principal, session_of
from broker.dashboard.context import Client, Ctx, ctx_of
from broker.dashboard.csv_export import csv_response

router = APIRouter(prefix="/api/v1", tags=["floor"])
Who = Annotated[Principal, Depends(require_principal)]
C = Annotated[Ctx, Depends(ctx_of)]


def _id_filter() -> Any:
    return Query(default=None, pattern="^[a-z0-9-]{1,64}$")


class Me(BaseModel):
    name: str
    role: str
    sites: list[str]
    teams: list[str]
    agent: str | None
    policy_profile: str
    sees_arousal: bool
    sees_fleet: bool
    csrf: str


class Tile(BaseModel):
    device: str
    name: str
    site: str
    team: str | None
    agent: str | None
    online: bool
    last_seen: float | None
    in_call: bool
    call_started: float | None
    call_s: float | None
    cue: str | None
    cue_since: float | None
    pace_ratio: float | None
    pace: str


class Floor(BaseModel):
    now: float
    sites: list[str]
    teams: list[str]
    tiles: list[Tile]


TILE_COLUMNS = list(Tile.model_fields)
STALE_CHECK_S = 5.0
"""How often a live stream re-checks which desks went silent (offline without a last will)."""


@router.get("/me", response_model=Me)
def me(request: Request, who: Who, ctx: C) -> Me:
    s = session_of(request)
    assert s is not None
    return Me(
        name=who.name,
        role=who.role.value,
        sites=sorted(who.sites),
        teams=sorted(who.teams),
        agent=who.agent,
        policy_profile=ctx.policy.profile,
        sees_arousal=ctx.policy.sees_arousal(who),
        sees_fleet=who.role is Role.ADMIN,
        csrf=s.csrf,
    )


def _floor(ctx: Ctx, who: Principal, site: str | None, team: str | None) -> dict[str, Any]:
    now = ctx.wall_clock()
    every = ctx.floor.visible(who)
    desks = [
        d for d in every if (site is None or d.site == site) and (team is None or d.team == team)
    ]
    return {
        "now": now,
        "sites": sorted({d.site for d in every}),
        "teams": sorted({d.team for d in every if d.team}),
        "tiles": [ctx.floor.tile(d, who, ctx.policy, now) for d in desks],
    }


@router.get("/floor", response_model=Floor)
def floor(
    who: Who, ctx: C, site: str | None = _id_filter(), team: str | None = _id_filter()
) -> dict:
    """One tile per desk the viewer may see (a supervisor: their sites/teams; an agent: own)."""
    return _floor(ctx, who, site, team)


@router.get("/floor.csv", response_class=Response)
def floor_csv(
    who: Who, ctx: C, site: str | None = _id_filter(), team: str | None = _id_filter()
) -> Response:
    return csv_response("floor.csv", TILE_COLUMNS, _floor(ctx, who, site, team)["tiles"])


@router.get("/stream")
async def stream(
    request: Request,
    who: Who,
    ctx: C,
    site: str | None = _id_filter(),
    team: str | None = _id_filter(),
) -> StreamingResponse:
    """Server-Sent Events: ``tiles`` events with the tiles that changed (and went stale)."""
    client = Client()
    ctx.broadcaster.loop = asyncio.get_running_loop()
    ctx.broadcaster.clients.add(client)

    def visible(device: str) -> dict[str, Any] | None:
        d = ctx.floor.get(device)
        if d is None or device not in allowed:
            return None
        return ctx.floor.tile(d, who, ctx.policy, ctx.wall_clock())

    allowed = {d.device for d in ctx.floor.visible(who, site, team)}
    last_online = {
        d.device: ctx.floor.online(d, ctx.wall_clock()) for d in ctx.floor.visible(who, site, team)
    }

    async def events() -> AsyncIterator[str]:
        nonlocal allowed
        generation = ctx.floor.generation
        next_stale_check = 0.0
        try:
            yield "retry: 2000\n\n"
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.event.wait(), ctx.settings.sse_heartbeat_s)
                if await request.is_disconnected():
                    return
                if ctx.settings.sse_batch_s > 0:  # let a burst of payloads coalesce
                    await asyncio.sleep(ctx.settings.sse_batch_s)
                client.event.clear()
                dirty, client.dirty = client.dirty & allowed, set()
                now = ctx.wall_clock()
                if ctx.floor.generation != generation:  # desks appeared
                    generation = ctx.floor.generation
                    allowed = {d.device for d in ctx.floor.visible(who, site, team)}
                    dirty |= allowed - set(last_online)
                if now >= next_stale_check:  # offline by silence, without any message
                    next_stale_check = now + STALE_CHECK_S
                    for d in ctx.floor.visible(who, site, team):
                        on = ctx.floor.online(d, now)
                        if last_online.get(d.device) != on:
                            last_online[d.device] = on
                            dirty.add(d.device)
                tiles = [t for t in (visible(dv) for dv in sorted(dirty)) if t is not None]
                if tiles:
                    yield f"event: tiles\ndata: {json.dumps({'now': now, 'tiles': tiles})}\n\n"
                else:
                    yield ": keep-alive\n\n"
        finally:
            ctx.broadcaster.clients.discard(client)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class TeamSummary(BaseModel):
    team: str
    agents: int
    shown: bool
    reason: str | None
    desks_online: int | None
    in_call: int | None
    pace_fast: int | None
    cues_now: dict[str, int] | None


@router.get("/teams/{team}", response_model=TeamSummary)
def team_summary(
    team: Annotated[str, Path(pattern="^[a-z0-9-]{1,64}$")], who: Who, ctx: C
) -> TeamSummary:
    """Team figures as an aggregate; withheld below the policy's minimum number of agents."""
    if who.role is Role.AGENT:
        raise HTTPException(status_code=403, detail="team figures are for supervisors")
    desks = [d for d in ctx.floor.visible(who) if d.team == team]
    if not desks and not (who.role is Role.ADMIN or team in who.teams):
        raise HTTPException(status_code=403, detail="not your team")
    agents = len({d.agent or d.device for d in desks})
    if agents < ctx.policy.min_aggregate_agents:
        return TeamSummary(
            team=team,
            agents=agents,
            shown=False,
            reason=f"fewer than {ctx.policy.min_aggregate_agents} agents",
            desks_online=None,
            in_call=None,
            pace_fast=None,
            cues_now=None,
        )
    now = ctx.wall_clock()
    tiles = [ctx.floor.tile(d, who, ctx.policy, now) for d in desks]
    cues: dict[str, int] = {}
    for t in tiles:
        if t["cue"]:
            cues[t["cue"]] = cues.get(t["cue"], 0) + 1
    return TeamSummary(
        team=team,
        agents=agents,
        shown=True,
        reason=None,
        desks_online=sum(t["online"] for t in tiles),
        in_call=sum(t["in_call"] for t in tiles),
        pace_fast=sum(t["pace"] == "fast" for t in tiles),
        cues_now=cues,
    )
