"""Agent-side drift signals measured against the agent's own baseline: pace, flat, stress.

* ``pace``: articulation rate (syllables per second of speech, trailing window) over the baseline
  median, once the trailing 5 s hold at least 2 s of agent speech. Safety caps: the signal is at
  least ``rate / pace_fast_sps * enter``, so at or above ``pace_fast_sps`` it always counts as fast
  (also before calibration, when this is the only term); below ``pace_min_sps`` it is forced under
  the exit threshold (never a pace cue).
* ``flat``: robust pitch spread over the baseline median. The spread is 1.4826 x MAD of the agent's
  voiced F0 (semitones) over the trailing ``PITCH_WINDOW_HOPS`` hops: unlike an SD it ignores the
  odd octave error of the pitch tracker. Caps: above ``flat_max_st`` never flat; the signal is at
  most ``spread / flat_always_st * enter``, so below ``flat_always_st`` always flat.
* ``stress``: the median of the last ``AROUSAL_SMOOTH_WINDOWS`` agent arousal logits scored
  against the agent's :class:`~edge.model.baseline.ArousalBaseline` exactly as the model was
  evaluated: ``(logit - midhinge) / spread`` (``ArousalBaseline.relative``), so the thresholds are
  in the agent's own spread units, independent of the model's logit scale (needs calibration);
  plus the rise of the agent's median pitch (voiced hops of their last ``PITCH_WINDOW_HOPS`` hops
  of *speech*, pauses skipped, so a talker of short phrases has one as often as a talker of long
  turns; semitones) over
  their baseline median pitch, divided by ``stress.pitch_st_per_unit``. A raised voice is the
  arousal cue that held across every speaker of both corpora, where the model's own separation
  varies from voice to voice (docs/voices.md).

While the agent is not speaking the signals are NaN (no change).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from edge.detectors.tick import Tick
from edge.device.baseline import AgentBaseline
from edge.settings import BaselineSettings, DetectorsSettings

NAN = float("nan")
#: Trailing window of the pitch spread and median pitch: 5 s of agent speech (and of time, for
#: the speech share that gates ``pace``).
PITCH_WINDOW_HOPS = 500
#: Arousal is the median of this many most recent model windows (0.5 s apart: ~2 s).
AROUSAL_SMOOTH_WINDOWS = 4
#: Voiced hops needed in the window for a spread (1.5 s).
MIN_VOICED_HOPS = 150
#: Agent speech hops needed in the trailing window before the articulation rate is trusted
#: (2 s of the 5 s window): right after a turn starts the rate rests on too few syllables.
MIN_RATE_SPEECH_HOPS = 200


def _last_finite(x: np.ndarray) -> float:
    finite = x[np.isfinite(x)]
    return float(finite[-1]) if finite.size else NAN


class SpeechPitch:
    """Median voiced F0 (semitones) of one channel's last ``window_hops`` hops of *speech*:
    pauses are skipped, so a talker of short phrases has one as often as a talker of long turns.
    Used for the agent's pitch level (``stress``, the pitch baseline) and the customer's
    (``empathy``)."""

    def __init__(
        self, window_hops: int = PITCH_WINDOW_HOPS, min_voiced: int = MIN_VOICED_HOPS
    ) -> None:
        self.window_hops = window_hops
        self.min_voiced = min_voiced
        self._f0: npt.NDArray[np.float32] = np.zeros(0, np.float32)
        """F0 of the last ``window_hops`` speech hops (NaN where unvoiced)."""

    def push(self, f0_st: npt.NDArray[np.floating], vad: npt.NDArray[np.bool_]) -> None:
        """Add a block's hops; only those with ``vad`` set enter the window."""
        self._f0 = np.concatenate([self._f0, f0_st[vad].astype(np.float32)])[-self.window_hops :]

    def median(self) -> float:
        """Median of the window's voiced hops; NaN with fewer than ``min_voiced`` of them."""
        voiced = self._f0[np.isfinite(self._f0)]
        return float(np.median(voiced)) if voiced.size >= self.min_voiced else NAN

    @property
    def hops(self) -> int:
        """Speech hops in the window (voiced or not)."""
        return int(self._f0.size)


class PitchSpread:
    """Robust pitch variability (semitones) of one channel's trailing ``window_hops`` hops, and
    median pitch of its last ``window_hops`` hops of speech (:class:`SpeechPitch`).

    The two windows differ on purpose. The spread keeps a window of time: after a pause it
    waits for fresh speech (1.5 s voiced) instead of carrying the last turn's tail into the
    next one, which would let ``flat`` count the pause towards its minimum duration. The median
    pitch skips pauses: a talker of short phrases (under 1.5 s voiced in any 5 s) would
    otherwise never get one, and their pitch baseline would never calibrate.
    """

    def __init__(self, window_hops: int = PITCH_WINDOW_HOPS) -> None:
        self.window_hops = window_hops
        self._f0: npt.NDArray[np.float32] = np.zeros(0, np.float32)
        """F0 of the last ``window_hops`` hops of time (NaN where unvoiced or not speech)."""
        self.speech = SpeechPitch(window_hops)
        """The agent's last ``window_hops`` speech hops, for :attr:`level`."""
        self._vad: npt.NDArray[np.bool_] = np.zeros(0, np.bool_)
        self.value = NAN
        self.level = NAN
        """Median voiced F0 (semitones) of the trailing speech, NaN while the agent is silent or
        with fewer than ``MIN_VOICED_HOPS`` voiced hops in it."""

    def update(self, tick: Tick) -> float:
        """Add the tick's hops; spread and level are recomputed only while the agent speaks
        (the only time they are used), otherwise NaN."""
        vad = tick.agent.vad
        f0 = np.where(vad, tick.agent.f0_st, np.float32(np.nan)).astype(np.float32)
        self._f0 = np.concatenate([self._f0, f0])[-self.window_hops :]
        self.speech.push(tick.agent.f0_st, vad)
        self._vad = np.concatenate([self._vad, vad])[-self.window_hops :]
        self.value = self.level = NAN
        if not tick.agent_speaking:
            return self.value
        voiced = self._f0[np.isfinite(self._f0)]
        if voiced.size >= MIN_VOICED_HOPS:
            med = np.median(voiced)
            self.value = float(1.4826 * np.median(np.abs(voiced - med)))
        self.level = self.speech.median()
        return self.value

    @property
    def speech_hops(self) -> int:
        """Agent speech hops in the trailing window."""
        return int(self._vad.sum())


class ProsodySignals:
    """Computes the pace, flat and stress signal values for one tick."""

    def __init__(
        self, baseline: AgentBaseline, caps: BaselineSettings, detectors: DetectorsSettings
    ) -> None:
        self.baseline = baseline
        self.caps = caps
        self.detectors = detectors
        self.spread = PitchSpread()
        self._recent: deque[float] = deque(maxlen=AROUSAL_SMOOTH_WINDOWS)
        self.last_arousal = NAN
        """Median of the last few agent arousal logits (NaN until the model scored a window)."""

    def observe(self, tick: Tick) -> None:
        """Update the running measures; call once per tick before the signals."""
        self.spread.update(tick)
        if tick.agent_arousal.size:
            self._recent.extend(float(a) for a in tick.agent_arousal)
            self.last_arousal = float(np.median(self._recent))

    def pace(self, tick: Tick) -> float:
        if not tick.agent_speaking or self.spread.speech_hops < MIN_RATE_SPEECH_HOPS:
            return NAN
        rate = _last_finite(tick.agent.articulation_rate_sps)
        if math.isnan(rate):
            return NAN
        det = self.detectors.pace
        if rate < self.caps.pace_min_sps:
            return det.exit * 0.99
        signal = rate / self.caps.pace_fast_sps * det.enter
        ref = self.baseline.reference("articulation_rate_sps")
        if ref is not None and ref.median > 0:
            signal = max(signal, rate / ref.median)
        return signal

    def flat(self, tick: Tick) -> float:
        sd = self.spread.value
        if not tick.agent_speaking or math.isnan(sd):
            return NAN
        det = self.detectors.flat
        if sd > self.caps.flat_max_st:
            return det.exit * 1.01
        signal = sd / self.caps.flat_always_st * det.enter if self.caps.flat_always_st > 0 else 1e9
        ref = self.baseline.reference("pitch_spread_st")
        if ref is not None and ref.median > 0:
            signal = min(signal, sd / ref.median)
        return signal

    def stress(self, tick: Tick) -> float:
        if not tick.agent_speaking or math.isnan(self.last_arousal):
            return NAN
        rel = self.baseline.arousal_relative(self.last_arousal)
        if rel is None:
            return NAN
        per_unit = self.detectors.stress.pitch_st_per_unit
        return rel + (self.pitch_rise() / per_unit if per_unit > 0 else 0.0)

    def pitch_rise(self) -> float:
        """Semitones of the trailing window's median pitch above the agent's baseline median
        pitch; 0 while either is unknown (the stress score is then the model's alone)."""
        ref = self.baseline.reference("pitch_level_st")
        level = self.spread.level
        if ref is None or math.isnan(level):
            return 0.0
        return level - ref.median
