"""What the dashboard reads: desks, metrics windows, calls, cue events, device health, gaps.

Plain frozen dataclasses, independent of where they are stored (the collector's SQLite or
PostgreSQL database, or :class:`~broker.dashboard.memory_store.MemoryStore` in tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Desk:
    """A desk = one device; ``name`` and ``team`` come from the desk directory (admin-set)."""

    device: str
    site: str
    name: str
    team: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class Window:
    """One metrics window of a desk (agent side and conversation figures)."""

    ts: float
    call: str | None
    agent: str | None
    duration_s: float
    speech_rate_sps: float | None
    articulation_rate_sps: float | None
    baseline_articulation_sps: float | None
    pitch_sd_st: float | None
    arousal: float | None
    agent_talk_s: float
    customer_talk_s: float
    overlap_s: float
    dead_air_s: float
    interruptions_by_agent: int
    interruptions_by_customer: int
    cues: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CueEvent:
    """A cue switching on or off at a desk."""

    device: str
    ts: float
    cue: str
    state: str
    call: str | None
    agent: str | None


@dataclass(frozen=True)
class Health:
    """Registry row of one device: status plus its last health report."""

    device: str
    site: str
    online: bool
    last_seen: float | None
    software: str | None = None
    model: str | None = None
    config_version: str | None = None
    policy_profile: str | None = None
    agent: str | None = None
    outbox_depth: int | None = None
    dropped: int | None = None
    cpu_temp_c: float | None = None
    overflows: int | None = None
    boot: int | None = None


@dataclass(frozen=True)
class Gap:
    """Missing seq range ``first..last`` (inclusive) of one boot of a device."""

    device: str
    boot: int
    first: int
    last: int


@dataclass(frozen=True)
class CallRow:
    """One call at a desk, summed over its windows."""

    call: str
    start: float
    end: float
    duration_s: float
    agent_talk_s: float
    customer_talk_s: float
    overlap_s: float
    dead_air_s: float
    interruptions_by_agent: int
    cues: dict[str, int]

    @property
    def talk_share(self) -> float | None:
        total = self.agent_talk_s + self.customer_talk_s
        return self.agent_talk_s / total if total > 0 else None


def calls_from_windows(windows: list[Window]) -> list[CallRow]:
    """Per-call rows summed from a desk's windows (ordered by time)."""
    acc: dict[str, dict] = {}
    for w in windows:
        if w.call is None:
            continue
        a = acc.setdefault(
            w.call,
            {
                "start": w.ts - w.duration_s,
                "end": w.ts,
                "dur": 0.0,
                "at": 0.0,
                "ct": 0.0,
                "ov": 0.0,
                "da": 0.0,
                "ia": 0,
                "cues": {},
            },
        )
        a["start"] = min(a["start"], w.ts - w.duration_s)
        a["end"] = max(a["end"], w.ts)
        a["dur"] += w.duration_s
        a["at"] += w.agent_talk_s
        a["ct"] += w.customer_talk_s
        a["ov"] += w.overlap_s
        a["da"] += w.dead_air_s
        a["ia"] += w.interruptions_by_agent
        for k, n in w.cues.items():
            a["cues"][k] = a["cues"].get(k, 0) + n
    return [
        CallRow(
            c,
            a["start"],
            a["end"],
            a["dur"],
            a["at"],
            a["ct"],
            a["ov"],
            a["da"],
            a["ia"],
            a["cues"],
        )
        for c, a in sorted(acc.items(), key=lambda kv: kv[1]["start"])
    ]
