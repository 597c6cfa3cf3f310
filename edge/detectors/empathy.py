"""``empathy``: the customer sounds distressed, relative to how the customer usually sounds.

Score = (median of the last few far-end arousal logits - its running median) + (median far-end
level over the customer's last 2 s of speech - its running median) / ``level_db_per_unit`` +
(median far-end pitch over the customer's last 5 s of speech - its running median) /
``pitch_st_per_unit`` (a raised voice survives the phone line's band limit; the term is 0 until
1.5 s of voiced customer speech is in the window, or with ``pitch_st_per_unit`` 0). Unless the
voice is also raised (pitch ``raised_pitch_st`` or level ``raised_level_db`` above its running
median), the score is held just under ``enter``: the model's excursions alone, which some calm
voices have (docs/voices.md), never start a drift, though they may keep one going. Running
medians are tracked with the sign-step quantile rule after a warm-up median of the first ``warmup``
observations (for arousal, the exact median of everything seen until its first ``exact``
observations, ~2 min of customer speech, while the far end's input normalisation settles), so
they follow the customer slowly and are robust to shouting bursts. NaN while the
customer is silent or before the model produced a score. The medians stand still while an empathy
drift is active, and start afresh after two minutes without customer speech (a new call).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from edge.detectors.prosody import AROUSAL_SMOOTH_WINDOWS, SpeechPitch
from edge.detectors.tick import Tick
from edge.settings import EmpathySettings

NAN = float("nan")
#: Customer silence after which the next customer speech is treated as a new call.
NEW_CALL_SILENCE_S = 120.0
#: The loudness term uses the median level of the customer's last this many speech hops (2 s).
LEVEL_WINDOW_HOPS = 200


class RunningMedian:
    """Streaming median estimate: after ``warmup`` observations, the exact median of everything
    seen so far, until ``exact`` observations; from then on ``m += step * sign(x - m)``.

    The exact stretch matters for the far end's arousal: its model inputs are normalised per
    speaker, and that normalisation settles over the customer's first minutes, so logits taken
    in the first seconds sit lower than later calm ones (docs/voices.md, set D). A median seeded
    on the first 10 s and then moving at most ``step`` per observation stayed 1-2 logits under
    them for ten minutes."""

    def __init__(self, step: float, warmup: int, exact: int = 0) -> None:
        self.step = step
        self.warmup = warmup
        self.exact = max(exact, warmup)
        self._seen: list[float] = []
        self.value = NAN

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value)

    def update(self, x: float) -> None:
        if math.isnan(x):
            return
        if len(self._seen) < self.exact:
            self._seen.append(x)
            if len(self._seen) >= self.warmup:
                self.value = float(np.median(self._seen))
            return
        self.value += self.step * float(np.sign(x - self.value))


class EmpathySignal:
    """Customer distress score per tick."""

    def __init__(self, settings: EmpathySettings) -> None:
        self.settings = settings
        # Warm-ups: ~20 arousal windows (10 s of speech) and 100 speaking ticks (10 s); arousal
        # is then the exact median of its first 240 windows (~2 min of customer speech); after
        # that the medians move at most ~0.6 logit and ~3 dB per minute of customer speech.
        self.arousal = RunningMedian(step=0.005, warmup=20, exact=240)
        self.level = RunningMedian(step=0.005, warmup=100)
        self.pitch = RunningMedian(step=0.005, warmup=100)  # ~3 semitones per minute at most
        self.frozen = False
        """While True (an empathy drift is active) the running medians do not move."""
        self._last_speech = -math.inf
        self._levels: npt.NDArray[np.float32] = np.zeros(0, np.float32)
        self._speech_pitch = SpeechPitch()  # the customer's last 5 s of speech, 1.5 s voiced
        self._recent: deque[float] = deque(maxlen=AROUSAL_SMOOTH_WINDOWS)
        self._last_arousal = NAN

    def update(self, tick: Tick) -> float:
        if tick.customer_arousal.size:
            self._recent.extend(float(a) for a in tick.customer_arousal)
            self._last_arousal = float(np.median(self._recent))
        if not tick.customer_speaking:
            if tick.t - self._last_speech > NEW_CALL_SILENCE_S and self.level.ready:
                self.reset()  # the customer has been silent for minutes: a new call
            return NAN
        self._last_speech = tick.t
        lv = tick.customer.level_dbfs[tick.customer.vad]
        self._levels = np.concatenate([self._levels, lv])[-LEVEL_WINDOW_HOPS:]
        level = float(np.median(self._levels)) if self._levels.size else NAN
        self._speech_pitch.push(tick.customer.f0_st, tick.customer.vad)
        pitch = self._speech_pitch.median()
        score = NAN
        if self.arousal.ready and self.level.ready and not math.isnan(self._last_arousal):
            st = self.settings
            level_rise = level - self.level.value
            pitch_rise = pitch - self.pitch.value if self.pitch.ready else NAN  # NaN: unknown
            score = (self._last_arousal - self.arousal.value) + level_rise / st.level_db_per_unit
            if st.pitch_st_per_unit > 0 and not math.isnan(pitch_rise):
                score += pitch_rise / st.pitch_st_per_unit
            raised = (st.raised_pitch_st <= 0 and st.raised_level_db <= 0) or (
                (st.raised_pitch_st > 0 and pitch_rise >= st.raised_pitch_st)
                or (st.raised_level_db > 0 and level_rise >= st.raised_level_db)
            )
            if not raised:  # the model alone: may hold a drift, never start one
                score = min(score, float(np.nextafter(st.enter, -math.inf)))
        if not self.frozen:
            if tick.customer_arousal.size:
                self.arousal.update(self._last_arousal)
            self.level.update(level)
            self.pitch.update(pitch)
        return score

    def reset(self) -> None:
        """Forget the customer (new call)."""
        self.arousal = RunningMedian(self.arousal.step, self.arousal.warmup, self.arousal.exact)
        self.level = RunningMedian(self.level.step, self.level.warmup)
        self.pitch = RunningMedian(self.pitch.step, self.pitch.warmup)
        self._speech_pitch = SpeechPitch()
        self._recent.clear()
        self._last_arousal = NAN
        self._levels = np.zeros(0, np.float32)
