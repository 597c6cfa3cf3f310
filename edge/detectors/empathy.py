"""``empathy``: the customer sounds distressed, relative to how the customer usually sounds.

Score = (median of the last few far-end arousal logits - its running median) + (median far-end
level of this tick's speech hops - its running median) / ``level_db_per_unit``. Running medians
are tracked with the sign-step quantile rule after a warm-up median of the first ``warmup``
observations, so they follow the customer slowly and are robust to shouting bursts. NaN while
the customer is silent or before the model produced a score.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from edge.detectors.prosody import AROUSAL_SMOOTH_WINDOWS
from edge.detectors.tick import Tick
from edge.settings import EmpathySettings

NAN = float("nan")


class RunningMedian:
    """Streaming median estimate: exact median of a warm-up, then ``m += step * sign(x - m)``."""

    def __init__(self, step: float, warmup: int) -> None:
        self.step = step
        self.warmup = warmup
        self._seed: list[float] = []
        self.value = NAN

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value)

    def update(self, x: float) -> None:
        if math.isnan(x):
            return
        if not self.ready:
            self._seed.append(x)
            if len(self._seed) >= self.warmup:
                self.value = float(np.median(self._seed))
                self._seed.clear()
            return
        self.value += self.step * float(np.sign(x - self.value))


class EmpathySignal:
    """Customer distress score per tick."""

    def __init__(self, settings: EmpathySettings) -> None:
        self.settings = settings
        # Warm-ups: ~20 arousal windows (10 s of speech) and 100 speaking ticks (10 s).
        self.arousal = RunningMedian(step=0.02, warmup=20)
        self.level = RunningMedian(step=0.05, warmup=100)
        self._recent: deque[float] = deque(maxlen=AROUSAL_SMOOTH_WINDOWS)
        self._last_arousal = NAN

    def update(self, tick: Tick) -> float:
        if tick.customer_arousal.size:
            self._recent.extend(float(a) for a in tick.customer_arousal)
            self._last_arousal = float(np.median(self._recent))
        if not tick.customer_speaking:
            return NAN
        lv = tick.customer.level_dbfs[tick.customer.vad]
        level = float(np.median(lv)) if lv.size else NAN
        score = NAN
        if self.arousal.ready and self.level.ready and not math.isnan(self._last_arousal):
            score = (self._last_arousal - self.arousal.value) + (
                level - self.level.value
            ) / self.settings.level_db_per_unit
        if tick.customer_arousal.size:
            self.arousal.update(self._last_arousal)
        self.level.update(level)
        return score
