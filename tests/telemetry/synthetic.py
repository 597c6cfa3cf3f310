"""Synthetic device events (what the pipeline would emit) for the publisher tests and driver."""

from __future__ import annotations

import math

from edge.device.events import (
    CallEvent,
    ConversationMetrics,
    CueEvent,
    DriftEvent,
    Event,
    MetricsWindow,
    SideMetrics,
)

CALL = "0123456789abcdef0123456789abcdef"


def side(i: int, arousal: float = 0.7) -> SideMetrics:
    return SideMetrics(
        speech_s=6.0,
        syllables=30.0 + i % 7,
        speech_rate_sps=3.1,
        articulation_rate_sps=5.2,
        f0_median_hz=180.0,
        pitch_sd_st=2.2,
        level_median_db=-24.0,
        arousal=arousal,
    )


def window(i: int, window_s: float = 10.0, call: str | None = CALL) -> MetricsWindow:
    """The ``i``-th 10 s metrics window (arousal present, so the policy has something to
    withhold)."""
    return MetricsWindow(
        t=(i + 1) * window_s,
        t_start=i * window_s,
        agent_side=side(i, 0.5 + (i % 5) / 10),
        customer_side=side(i + 3, math.nan if i % 4 == 0 else 1.1),
        conversation=ConversationMetrics(4.0, 3.0, 0.5, 2.5, i % 2, 0, 7.5),
        cues={"pace": i % 2, "stress": 1, "empathy": 1},
        baseline_state="following",
        baseline_speech_s=300.0,
        baseline_rate_sps=5.0,
        baseline_pitch_spread_st=0.8,
        call=call,
        agent=None,
    )


def mixed(n: int) -> list[Event]:
    """``n`` windows with cue, drift and call events in between (stress and empathy among
    them)."""
    out: list[Event] = [CallEvent(t=0.0, state="start", call=CALL)]
    for i in range(n):
        out.append(window(i))
        t = (i + 1) * 10.0
        if i % 3 == 0:
            out.append(CueEvent(t=t, cue="stress", state="on", reason="drift", call=CALL))
            out.append(CueEvent(t=t, cue="empathy", state="on", reason="drift", call=CALL))
            out.append(DriftEvent(t=t, cue="stress", state="on", value=2.0, call=CALL))
        if i % 3 == 1:
            out.append(CueEvent(t=t, cue="pace", state="on", reason="drift", call=CALL))
            out.append(CueEvent(t=t, cue="pace", state="off", reason="ended", call=CALL))
    out.append(CallEvent(t=n * 10.0, state="end", duration_s=n * 10.0, call=CALL))
    return out
