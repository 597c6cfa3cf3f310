"""/api/v1/desks/{device}: one desk's timeline, calls and cues (JSON and CSV)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from broker.accounts.roles import Principal, Role
from broker.dashboard.auth import require_principal
from broker.dashboard.context import Ctx, ctx_of
from broker.dashboard.csv_export import csv_response
from broker.dashboard.model import Window, calls_from_windows

router = APIRouter(prefix="/api/v1/desks", tags=["desk"])
Who = Annotated[Principal, Depends(require_principal)]
C = Annotated[Ctx, Depends(ctx_of)]
DeviceId = Annotated[str, Path(pattern="^[a-z0-9-]{1,64}$", examples=["desk-a1"])]


def _epoch() -> Any:
    return Query(default=None, ge=0, le=1e11, description="seconds since the epoch")


Bucket = Query(default=None, ge=10, le=86400, description="seconds per point (default: auto)")

#: Series summed per bucket (the others are averaged).
_SUMMED = (
    "agent_talk_s",
    "customer_talk_s",
    "overlap_s",
    "dead_air_s",
    "interruptions_by_agent",
    "interruptions_by_customer",
)
SERIES = (
    "speech_rate_sps",
    "articulation_rate_sps",
    "baseline_articulation_sps",
    "pitch_sd_st",
    "arousal",
    *_SUMMED,
)
SUMMED = set(_SUMMED)


class DeskInfo(BaseModel):
    device: str
    name: str
    site: str
    team: str | None
    agent: str | None
    sees_arousal: bool


class Timeline(BaseModel):
    device: str
    since: float
    until: float
    bucket_s: float
    sees_arousal: bool
    ts: list[float]
    series: dict[str, list[float | None]]
    cues: dict[str, list[float]]


class CallOut(BaseModel):
    call: str
    start: float
    end: float
    duration_s: float
    talk_share: float | None
    agent_talk_s: float
    overlap_s: float
    dead_air_s: float
    interruptions_by_agent: int
    cues: dict[str, int]


def _span(ctx: Ctx, since: float | None, until: float | None) -> tuple[float, float]:
    until = ctx.wall_clock() if until is None else until
    since = until - ctx.settings.history_s if since is None else since
    return (since, until) if since < until else (until, since + 1)


def _windows(ctx: Ctx, who: Principal, device: str, since: float, until: float) -> list[Window]:
    rows = ctx.store.windows(device, since, until)
    if who.role is Role.AGENT:  # an agent's trends are their own, not the desk's other users'
        rows = [w for w in rows if w.agent in (None, who.agent)]
    return rows


@dataclass(frozen=True)
class DeskSpan:
    """What every span request of a desk names: who asks, the desk, and the span asked for."""

    ctx: Ctx
    who: Principal
    device: str
    since: float | None
    until: float | None

    def checked(self) -> tuple[float, float]:
        """The span (default: the last ``history_s``), once ``who`` may see the desk (403 or
        404 otherwise)."""
        self.ctx.desk_for(self.who, self.device)
        return _span(self.ctx, self.since, self.until)


def _desk_span(
    device: DeviceId,
    who: Who,
    ctx: C,
    since: float | None = _epoch(),
    until: float | None = _epoch(),
) -> DeskSpan:
    return DeskSpan(ctx, who, device, since, until)


def _bucket(bucket_s: float | None = Bucket) -> float | None:
    return bucket_s


Span = Annotated[DeskSpan, Depends(_desk_span)]
#: ``bucket_s``, a dependency too so that the API lists it after the span's parameters.
BucketS = Annotated[float | None, Depends(_bucket)]


@router.get("/{device}", response_model=DeskInfo)
def desk(device: DeviceId, who: Who, ctx: C) -> DeskInfo:
    d = ctx.desk_for(who, device)
    return DeskInfo(
        device=d.device,
        name=d.name,
        site=d.site,
        team=d.team,
        agent=d.agent,
        sees_arousal=ctx.policy.sees_arousal(who),
    )


def timeline_of(
    ctx: Ctx, who: Principal, device: str, since: float, until: float, bucket: float | None
) -> dict[str, Any]:
    rows = _windows(ctx, who, device, since, until)
    bucket_s = bucket or max(10.0, math.ceil((until - since) / 1500 / 10) * 10)
    arousal = ctx.policy.sees_arousal(who)
    names = [s for s in SERIES if arousal or s != "arousal"]
    buckets: dict[int, list[Window]] = {}
    for w in rows:
        buckets.setdefault(int((w.ts - since) // bucket_s), []).append(w)
    ts: list[float] = []
    series: dict[str, list[float | None]] = {n: [] for n in names}
    for k in sorted(buckets):
        ws = buckets[k]
        ts.append(since + k * bucket_s if len(ws) > 1 else ws[0].ts)
        for n in names:
            vals = [float(v) for v in (getattr(w, n) for w in ws) if v is not None]
            if not vals:
                series[n].append(None)
            else:
                series[n].append(round(sum(vals) if n in SUMMED else sum(vals) / len(vals), 4))
    cues: dict[str, list[float]] = {}
    for c in ctx.store.cue_events(device, since, until):
        if (
            c.state == "on"
            and ctx.policy.sees_cue(who, c.cue)
            and (who.role is not Role.AGENT or c.agent in (None, who.agent))
        ):
            cues.setdefault(c.cue, []).append(c.ts)
    return {
        "device": device,
        "since": since,
        "until": until,
        "bucket_s": bucket_s,
        "sees_arousal": arousal,
        "ts": ts,
        "series": series,
        "cues": cues,
    }


@router.get("/{device}/timeline", response_model=Timeline)
def timeline(q: Span, bucket_s: BucketS) -> dict[str, Any]:
    """Chart series over the span (bucketed means; talk/overlap/dead air/interruptions summed)."""
    return timeline_of(q.ctx, q.who, q.device, *q.checked(), bucket_s)


@router.get("/{device}/timeline.csv", response_class=Response)
def timeline_csv(q: Span, bucket_s: BucketS) -> Response:
    t = timeline_of(q.ctx, q.who, q.device, *q.checked(), bucket_s)
    rows = [
        {"ts": ts, **{n: t["series"][n][i] for n in t["series"]}} for i, ts in enumerate(t["ts"])
    ]
    return csv_response(f"{q.device}-timeline.csv", ["ts", *t["series"]], rows)


def calls_of(ctx: Ctx, who: Principal, device: str, since: float, until: float) -> list[dict]:
    out = []
    for c in reversed(calls_from_windows(_windows(ctx, who, device, since, until))):
        out.append(
            {
                "call": c.call,
                "start": c.start,
                "end": c.end,
                "duration_s": c.duration_s,
                "talk_share": None if c.talk_share is None else round(c.talk_share, 3),
                "agent_talk_s": c.agent_talk_s,
                "overlap_s": c.overlap_s,
                "dead_air_s": c.dead_air_s,
                "interruptions_by_agent": c.interruptions_by_agent,
                "cues": ctx.policy.filter_cues(who, c.cues),
            }
        )
    return out


@router.get("/{device}/calls", response_model=list[CallOut])
def calls(q: Span) -> list[dict]:
    """Per-call rows, newest first."""
    return calls_of(q.ctx, q.who, q.device, *q.checked())


@router.get("/{device}/calls.csv", response_class=Response)
def calls_csv(q: Span) -> Response:
    rows = calls_of(q.ctx, q.who, q.device, *q.checked())
    return csv_response(f"{q.device}-calls.csv", list(CallOut.model_fields), rows)
