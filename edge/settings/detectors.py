"""Detector settings: one table per detector under ``[detectors]`` (re-exported by edge.settings).

Every detector shares :class:`DetectorSettings` (hysteresis thresholds, minimum duration, exit
hold, refractory period, priority, longest display); subclasses change the defaults and add what
only that detector needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

#: Every detector, in the order tables and reports list them.
DETECTOR_NAMES = ("pace", "stress", "flat", "overtalk", "monologue", "dead_air", "empathy")


@dataclass(frozen=True)
class DetectorSettings:
    """Shared shape of every detector: a signal compared with enter/exit thresholds."""

    enter: float = 1.0
    """The signal must pass this (above, or below for ``flat``) to start a drift."""

    exit: float = 0.5
    """The drift ends when the signal falls back past this (hysteresis: between exit and enter
    nothing changes)."""

    min_duration_s: float = 2.0
    """The signal must stay elevated this long before the drift starts: never back past
    ``exit``, past ``enter`` in at least ``enter_share`` of the ticks and at the end."""

    enter_share: float = 0.5
    """While waiting out ``min_duration_s``, the share of ticks that must be past ``enter`` (of
    the whole wait, or of its last ``min_duration_s``); the rest may sit between ``exit`` and
    ``enter``."""

    strong_min_share: float = 1.0
    """A strong signal may start a drift sooner: one whose median over the last
    ``min_duration_s`` is ``k`` times past ``enter`` needs ``min_duration_s / k``, but never less
    than this share of it (1: always the full ``min_duration_s``)."""

    scored_share: float = 0.0
    """Share of the wait that must be scored (ticks with a value, not NaN): 0 lets a pause
    inside the wait count as waiting; 1 counts the wait in scored speech only."""

    exit_hold_s: float = 3.0
    """The signal must stay back past ``exit`` this long before the drift ends (a momentary dip
    at a turn start does not end it)."""

    refractory_s: float = 120.0
    """After a drift ends, the same detector stays quiet this long."""

    priority: int = 50
    """When cues compete, the higher priority wins (and may replace a lower one being shown)."""

    max_on_s: float = 30.0
    """A shown cue is cleared after this long even if the drift goes on (the agent has seen it)."""

    fires_below: ClassVar[bool] = False
    """True for detectors whose signal must fall below ``enter`` (``flat``)."""

    def __post_init__(self) -> None:
        if min(self.min_duration_s, self.exit_hold_s, self.refractory_s) < 0 or self.max_on_s <= 0:
            raise ValueError("durations must not be negative (max_on_s positive)")
        if not 0 < self.enter_share <= 1:
            raise ValueError(f"enter_share must be in (0, 1], got {self.enter_share:g}")
        if not 0 < self.strong_min_share <= 1:
            raise ValueError(f"strong_min_share must be in (0, 1], got {self.strong_min_share:g}")
        if not 0 <= self.scored_share <= 1:
            raise ValueError(f"scored_share must be in [0, 1], got {self.scored_share:g}")
        if self.enter <= 0 or self.exit < 0:
            raise ValueError(
                f"thresholds must not be negative (enter {self.enter:g} > 0, exit "
                f"{self.exit:g} >= 0)"
            )
        if self.fires_below and self.exit <= self.enter:
            raise ValueError("exit must be above enter (hysteresis)")
        if not self.fires_below and self.exit >= self.enter:
            raise ValueError("exit must be below enter (hysteresis)")


@dataclass(frozen=True)
class PaceSettings(DetectorSettings):
    """``pace``: articulation rate relative to the agent's baseline median (ratio)."""

    enter: float = 1.25
    """Rate / baseline at or above which the agent counts as fast."""
    exit: float = 1.12
    """Rate / baseline below which the drift ends."""
    min_duration_s: float = 6.0
    """Seconds of fast speech before the cue."""
    priority: int = 60
    """Priority among cues."""


@dataclass(frozen=True)
class StressSettings(DetectorSettings):
    """``stress``: the agent's model arousal relative to their own arousal baseline, exactly as
    the model was evaluated: the median of the last 4 window logits scored by the agent's
    :class:`edge.model.baseline.ArousalBaseline` (``(logit - midhinge) / spread``), plus the
    agent's pitch rise over their baseline in units of ``pitch_st_per_unit``. Thresholds
    are in the agent's spread units (z-like, IQR / 1.349 floored at 0.5 logit), not logits, so
    they survive a change of the model's logit scale."""

    enter: float = 2.5
    """Relative arousal (spread units) that starts the drift: above the agent's usual calm peaks
    (how it was chosen: docs/device.md, "Measured")."""
    exit: float = 1.0
    """Relative arousal (spread units) below which the drift ends: back within the agent's usual
    range."""
    min_duration_s: float = 4.0
    """Seconds of raised arousal before the cue (for a score near ``enter``)."""
    enter_share: float = 0.4
    """Share of the wait's scores that must be past ``enter`` (the rest stays above ``exit``):
    a stressed stretch whose score wavers between ``exit`` and ``enter`` still counts."""
    strong_min_share: float = 0.5
    """A score well past ``enter`` waits less: twice ``enter`` or more, half of
    ``min_duration_s``."""
    scored_share: float = 0.4
    """Share of the wait that must be scored speech: a second of high score followed by a pause
    does not start a drift as soon as the speaker resumes, while the pauses of continuous speech
    still count (a share above a speaker's own share of speech delays their cue)."""
    pitch_st_per_unit: float = 3.0
    """Semitones of the agent's median pitch above their baseline median pitch worth one unit
    of the stress score, added to the model's relative arousal (0: the model alone)."""
    priority: int = 55
    """Priority among cues."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.pitch_st_per_unit >= 0 and math.isfinite(self.pitch_st_per_unit)):
            raise ValueError("stress.pitch_st_per_unit must be a finite number >= 0")


@dataclass(frozen=True)
class FlatSettings(DetectorSettings):
    """``flat``: pitch variability (SD in semitones) relative to the baseline median (ratio);
    this detector fires when the signal is BELOW ``enter``."""

    fires_below: ClassVar[bool] = True

    enter: float = 0.6
    """Pitch SD / baseline at or below which the voice counts as flat."""
    exit: float = 0.75
    """Pitch SD / baseline above which the drift ends."""
    min_duration_s: float = 6.0
    """Seconds of flat speech before the cue."""
    refractory_s: float = 300.0
    """Quiet time after a flat drift ends."""
    priority: int = 20
    """Priority among cues."""


@dataclass(frozen=True)
class OvertalkSettings(DetectorSettings):
    """``overtalk``: fraction of the last second in which both sides speak at once."""

    enter: float = 0.6
    """Overlap fraction that starts the drift."""
    exit: float = 0.2
    """Overlap fraction below which the drift ends."""
    min_duration_s: float = 1.0
    """Seconds of overlap before the cue."""
    exit_hold_s: float = 0.5
    """Seconds below ``exit`` before the drift ends."""
    refractory_s: float = 60.0
    """Quiet time after an overtalk drift ends."""
    priority: int = 80
    """Priority among cues."""
    max_on_s: float = 5.0
    """Longest time an overtalk cue is shown."""


@dataclass(frozen=True)
class MonologueSettings(DetectorSettings):
    """``monologue``: length in seconds of the agent's current turn (turns as defined in
    ``docs/dynamics.md``; thresholds under ``dynamics``)."""

    enter: float = 60.0
    """Turn length (seconds) that starts the drift."""
    exit: float = 1.0
    """Turn length below which the drift ends (the turn was handed over)."""
    min_duration_s: float = 0.0
    """Extra seconds past ``enter`` before the cue."""
    exit_hold_s: float = 0.0
    """Seconds below ``exit`` before the drift ends."""
    refractory_s: float = 60.0
    """Quiet time after a monologue drift ends."""
    priority: int = 40
    """Priority among cues."""
    max_on_s: float = 10.0
    """Longest time a monologue cue is shown."""


@dataclass(frozen=True)
class DeadAirSettings(DetectorSettings):
    """``dead_air``: seconds during which neither side has spoken."""

    enter: float = 10.0
    """Silence (seconds) that starts the drift."""
    exit: float = 0.3
    """Silence below which the drift ends (someone spoke)."""
    min_duration_s: float = 0.0
    """Extra seconds past ``enter`` before the cue."""
    exit_hold_s: float = 0.0
    """Seconds below ``exit`` before the drift ends."""
    refractory_s: float = 60.0
    """Quiet time after a dead-air drift ends."""
    priority: int = 30
    """Priority among cues."""
    max_on_s: float = 10.0
    """Longest time a dead-air cue is shown."""


@dataclass(frozen=True)
class EmpathySettings(DetectorSettings):
    """``empathy``: customer distress = far-end arousal above its running median (logit) plus
    far-end loudness above its running median divided by ``level_db_per_unit``."""

    enter: float = 5.5
    """Distress score that starts the drift (in the shipped model's logit units: retune when the
    model changes; evidence in docs/voices.md)."""
    exit: float = 3.0
    """Distress score below which the drift ends."""
    min_duration_s: float = 3.0
    """Seconds of distress before the cue."""
    scored_share: float = 0.4
    """Share of the wait that must be scored far-end speech: a short excursion followed by the
    customer's pause does not start a drift on its own."""
    refractory_s: float = 180.0
    """Quiet time after an empathy drift ends."""
    priority: int = 70
    """Priority among cues."""
    level_db_per_unit: float = 6.0
    """Decibels of extra loudness worth one unit of distress."""
    pitch_st_per_unit: float = 3.0
    """Semitones of the customer's median pitch above its running median worth one unit of
    distress (0: no pitch term)."""
    raised_pitch_st: float = 1.5
    """A drift starts only with a raised voice: the customer's median pitch at least this many
    semitones above its running median, or (next) their level ``raised_level_db`` above its own;
    otherwise the score is held just under ``enter`` (0 here and there: no such condition)."""
    raised_level_db: float = 4.0
    """Decibels of the customer's level above its running median that also count as a raised
    voice (0: only the pitch counts)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("pitch_st_per_unit", "raised_pitch_st", "raised_level_db"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise ValueError(f"empathy.{name} must be a finite number >= 0")


@dataclass(frozen=True)
class DetectorsSettings:
    """One table per detector."""

    pace: PaceSettings = field(default_factory=PaceSettings)
    """Speaking faster than usual."""
    stress: StressSettings = field(default_factory=StressSettings)
    """Vocal arousal above the agent's own baseline (needs the model)."""
    flat: FlatSettings = field(default_factory=FlatSettings)
    """Monotone delivery."""
    overtalk: OvertalkSettings = field(default_factory=OvertalkSettings)
    """Talking over the customer."""
    monologue: MonologueSettings = field(default_factory=MonologueSettings)
    """A long uninterrupted agent turn."""
    dead_air: DeadAirSettings = field(default_factory=DeadAirSettings)
    """Both sides silent too long."""
    empathy: EmpathySettings = field(default_factory=EmpathySettings)
    """The customer sounds distressed (needs the model)."""

    def get(self, name: str) -> DetectorSettings:
        if name not in DETECTOR_NAMES:
            raise KeyError(name)
        value: DetectorSettings = getattr(self, name)
        return value
