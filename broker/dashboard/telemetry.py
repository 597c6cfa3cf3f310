"""Contract payloads (edge.telemetry, schema v1) -> the dashboard's model objects.

Payloads reaching here were validated by the collector; these functions still use ``.get`` so a
missing optional field never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.dashboard.model import CueEvent, Window
from edge.telemetry.envelope import parse_ts


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _int(v: Any) -> int:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else 0


def payload_ts(payload: Mapping[str, Any]) -> float:
    return parse_ts(str(payload["ts"]))


def window_from_metrics(payload: Mapping[str, Any]) -> Window:
    side = payload.get("agent_side") or {}
    conv = payload.get("conversation") or {}
    base = payload.get("baseline") or {}
    cues = payload.get("cues") or {}
    return Window(
        ts=payload_ts(payload),
        call=payload.get("call"),
        agent=payload.get("agent"),
        duration_s=_num(payload.get("duration_s")) or 0.0,
        speech_rate_sps=_num(side.get("speech_rate_sps")),
        articulation_rate_sps=_num(side.get("articulation_rate_sps")),
        baseline_articulation_sps=_num(base.get("articulation_rate_sps")),
        pitch_sd_st=_num(side.get("pitch_sd_st")),
        arousal=_num(side.get("arousal")),
        agent_talk_s=_num(conv.get("agent_talk_s")) or 0.0,
        customer_talk_s=_num(conv.get("customer_talk_s")) or 0.0,
        overlap_s=_num(conv.get("overlap_s")) or 0.0,
        dead_air_s=_num(conv.get("dead_air_s")) or 0.0,
        interruptions_by_agent=_int(conv.get("interruptions_by_agent")),
        interruptions_by_customer=_int(conv.get("interruptions_by_customer")),
        cues={str(k): _int(v) for k, v in cues.items()},
    )


def cue_from_event(payload: Mapping[str, Any]) -> CueEvent | None:
    """The cue switching of an ``events`` payload (cue or drift), or None for other events."""
    ev = payload.get("event") or {}
    if ev.get("type") not in ("cue", "drift") or "cue" not in ev:
        return None
    return CueEvent(
        device=str(payload["device"]),
        ts=payload_ts(payload),
        cue=str(ev["cue"]),
        state=str(ev.get("state", "on")),
        call=payload.get("call"),
        agent=payload.get("agent"),
    )
