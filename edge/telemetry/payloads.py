"""Typed device events -> payload bodies of the contract (envelope fields are added by the
publisher, see :func:`edge.telemetry.envelope.envelope`). Only :mod:`edge.policy` calls these:
what each body may contain is its decision."""

from __future__ import annotations

import math
from typing import Any

from edge.device.events import CallEvent, CueEvent, MetricsWindow, SideMetrics


def _num(x: float, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def side_body(side: SideMetrics, arousal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "speech_s": round(side.speech_s, 2),
        "syllables": round(side.syllables, 2),
        "speech_rate_sps": _num(side.speech_rate_sps),
        "articulation_rate_sps": _num(side.articulation_rate_sps),
        "f0_median_hz": _num(side.f0_median_hz, 1),
        "pitch_sd_st": _num(side.pitch_sd_st),
        "level_median_db": _num(side.level_median_db, 1),
    }
    if arousal:
        out["arousal"] = _num(side.arousal)
    return out


def metrics_body(w: MetricsWindow, arousal: bool, cues: frozenset[str]) -> dict[str, Any]:
    """A metrics window; ``arousal`` decides whether arousal fields are included at all, and
    only cue kinds in ``cues`` are counted."""
    c = w.conversation
    return {
        "call": w.call,
        "agent": w.agent,
        "t_start": round(w.t_start, 2),
        "t_end": round(w.t, 2),
        "duration_s": round(w.duration_s, 2),
        "agent_side": side_body(w.agent_side, arousal),
        "customer_side": (None if w.customer_side is None else side_body(w.customer_side, arousal)),
        "conversation": {
            "agent_talk_s": round(c.agent_talk_s, 2),
            "customer_talk_s": round(c.customer_talk_s, 2),
            "overlap_s": round(c.overlap_s, 2),
            "dead_air_s": round(c.dead_air_s, 2),
            "interruptions_by_agent": c.interruptions_by_agent,
            "interruptions_by_customer": c.interruptions_by_customer,
            "longest_monologue_s": round(c.longest_monologue_s, 2),
        },
        "cues": {k: v for k, v in sorted(w.cues.items()) if k in cues},
        "baseline": {
            "state": w.baseline_state,
            "speech_s": round(w.baseline_speech_s, 1),
            "articulation_rate_sps": _num(w.baseline_rate_sps),
            "pitch_spread_st": _num(w.baseline_pitch_spread_st),
        },
    }


def cue_body(ev: CueEvent) -> dict[str, Any]:
    return {
        "call": ev.call,
        "agent": ev.agent,
        "t": round(ev.t, 2),
        "event": {"type": "cue", "cue": ev.cue, "state": ev.state, "reason": ev.reason[:32]},
    }


def call_body(ev: CallEvent) -> dict[str, Any]:
    return {
        "call": ev.call,
        "agent": ev.agent,
        "t": round(ev.t, 2),
        "event": {"type": "call", "state": ev.state, "duration_s": _num(ev.duration_s or math.nan)},
    }
