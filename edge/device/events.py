"""Typed events of the device loop: what :meth:`Pipeline.step` returns and sinks receive.

Every event has ``t`` (seconds of audio since the stream started; never the wall clock), the
``call`` it belongs to (a random id, ``None`` between calls) and the signed-in ``agent`` (or
``None``). :meth:`to_json` is the local JSON line (``--events``); what may leave the device is
decided by :mod:`edge.policy`, and serialized by :mod:`edge.telemetry`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

OnOff = Literal["on", "off"]


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # e.g. SideMetrics
        return {f.name: _clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@dataclass(frozen=True)
class _Base:
    kind: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        """The local JSON line: ``t``, ``kind``, then the fields (NaN -> null)."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "t"}
        return {"t": round(getattr(self, "t"), 3), "kind": self.kind, **_clean(body)}  # noqa: B009

    def stamped(self, call: str | None, agent: str | None) -> Any:
        """A copy of this event tagged with the call and the agent."""
        changes: dict[str, Any] = {"call": call, "agent": agent}
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class CueEvent(_Base):
    """A cue was shown to the agent (``on``) or cleared (``off``)."""

    kind: ClassVar[str] = "cue"
    t: float
    cue: str
    """Detector name (``pace``, ``stress``, ...)."""
    state: OnOff
    reason: str
    """``drift`` (or ``deferred``: shown once the budget allowed, the drift still on) for on;
    ``ended``, ``timeout``, ``preempted`` or ``flush`` for off."""
    call: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class DriftEvent(_Base):
    """A detector's signal crossed its hysteresis thresholds (held long enough)."""

    kind: ClassVar[str] = "drift"
    t: float
    cue: str
    state: OnOff
    value: float
    """The detector's signal at the transition."""
    call: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class SuppressedEvent(_Base):
    """A drift that did not become a cue (``busy``, ``budget`` or ``gap``). Local only."""

    kind: ClassVar[str] = "suppressed"
    t: float
    cue: str
    reason: str
    call: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class BaselineEvent(_Base):
    """The agent baseline changed state: ``calibrated``, ``frozen``, ``following``, ``reset``
    (calibrating anew) or ``agent`` (another agent's baseline is now in use)."""

    kind: ClassVar[str] = "baseline"
    t: float
    state: str
    references: dict[str, Any] = field(default_factory=dict)
    """Per metric ``{"median", "spread"}`` (or ``None``) at the time, for the local log."""
    speech_s: float = 0.0
    """Seconds of agent speech the baseline has seen."""
    call: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class CallEvent(_Base):
    """A call started or ended (as decided by :mod:`edge.conversation.calls`)."""

    kind: ClassVar[str] = "call"
    t: float
    state: Literal["start", "end"]
    duration_s: float | None = None
    """For ``end``: from the call's first speech to its last."""
    call: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class SideMetrics:
    """One side of a metrics window; rates and medians are NaN without speech."""

    speech_s: float
    syllables: float
    speech_rate_sps: float
    """Syllables per second of the window (pauses included)."""
    articulation_rate_sps: float
    """Syllables per second of speech (VAD) in the window."""
    f0_median_hz: float
    pitch_sd_st: float
    """Standard deviation of voiced F0 in semitones over the window."""
    level_median_db: float
    """Median level (dBFS) of speech hops."""
    arousal: float
    """Mean arousal score over the window (spread units against the agent's baseline for the
    agent; raw logit for the customer); NaN without model or windows."""


@dataclass(frozen=True)
class ConversationMetrics:
    """Turn-taking in a window (definitions: ``docs/dynamics.md``)."""

    agent_talk_s: float
    customer_talk_s: float
    overlap_s: float
    dead_air_s: float
    interruptions_by_agent: int
    interruptions_by_customer: int
    longest_monologue_s: float
    """Longest agent or customer turn that ended or was ongoing in the window (seconds, whole
    turn so far)."""


@dataclass(frozen=True)
class MetricsWindow(_Base):
    """An aggregate over a window of ticks (every tick counted, not a snapshot)."""

    kind: ClassVar[str] = "metrics"
    t: float
    """End of the window (seconds of audio)."""
    t_start: float
    agent_side: SideMetrics
    customer_side: SideMetrics | None
    """``None`` when there is no far end (mono replay)."""
    conversation: ConversationMetrics
    cues: dict[str, int]
    """Cues shown (``on``) in the window, by detector."""
    baseline_state: Literal["calibrating", "following", "frozen"]
    baseline_speech_s: float
    baseline_rate_sps: float
    """The agent's baseline articulation rate (NaN while calibrating)."""
    baseline_pitch_spread_st: float
    call: str | None = None
    agent: str | None = None

    @property
    def duration_s(self) -> float:
        return self.t - self.t_start


Event = CueEvent | DriftEvent | SuppressedEvent | BaselineEvent | CallEvent | MetricsWindow
"""Anything :meth:`edge.device.pipeline.Pipeline.step` returns."""
EVENT_TYPES = (CueEvent, DriftEvent, SuppressedEvent, BaselineEvent, CallEvent, MetricsWindow)
