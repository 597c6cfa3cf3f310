"""Streaming energy VAD: level against a tracked noise floor, with hangover.

The noise floor is a minimum statistic: the lowest short-term (50 ms) level over the trailing
``NOISE_WINDOW_S`` seconds. Speech always has dips between syllables and words, so the floor follows
the background even while someone talks, and it rises again by itself when the room gets louder.
A hop is speech when its level is ``vad_margin_db`` above that floor and above ``vad_floor_dbfs``;
speech is held ``vad_hangover_s`` after the last such hop. Causal: no look-ahead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.features.strided import windows

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Trailing window of the minimum-statistics noise floor, seconds.
NOISE_WINDOW_S = 3.0
#: Short-term smoothing of the level before the minimum is taken, seconds.
SMOOTH_S = 0.05
#: "No speech yet" as a hop count; far from int64 overflow.
_NEVER = 1 << 40


class VoiceActivityDetector:
    """One per channel; feed it hop levels in stream order."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self._smooth = max(1, round(SMOOTH_S / config.hop_s))
        self._window = max(1, round(NOISE_WINDOW_S / config.hop_s))
        self._hang = max(0, round(config.vad_hangover_s / config.hop_s))
        self.reset()

    def reset(self) -> None:
        # Before the stream: zero power (not counted) and an infinite level (never the minimum).
        self._power_hist: F64 = np.zeros(self._smooth - 1)
        self._smooth_hist: F64 = np.full(self._window - 1, np.inf)
        self._seen = 0
        """Hops seen so far (the smoothing averages over fewer hops at the start)."""
        self._since_speech = _NEVER
        """Hops since the last hop above the threshold (large: never)."""
        self.noise_floor_db = float("nan")
        """The floor at the last hop seen (for inspection)."""

    def update(self, mean_square: F64, level_dbfs: npt.ArrayLike) -> B:
        """Speech flags for the next hops, given their mean-square power and level in dBFS."""
        power = np.asarray(mean_square, np.float64)
        level = np.asarray(level_dbfs, np.float64)
        n = power.shape[0]
        if n == 0:
            return np.zeros(0, np.bool_)
        p = np.concatenate([self._power_hist, power])
        counts = np.minimum(np.arange(self._seen + 1, self._seen + n + 1), self._smooth)
        smooth_db = 10.0 * np.log10(windows(p, self._smooth).sum(axis=1) / counts)
        s = np.concatenate([self._smooth_hist, smooth_db])
        floor = windows(s, self._window).min(axis=1)
        above = (level >= floor + self.config.vad_margin_db) & (level >= self.config.vad_floor_dbfs)
        # Hops since the last hop above threshold, carried across calls.
        idx = np.arange(n, dtype=np.int64)
        last = np.maximum.accumulate(np.where(above, idx, -self._since_speech - 1))
        since = idx - last
        self._since_speech = min(int(since[-1]), _NEVER)
        self._power_hist = p[len(p) - (self._smooth - 1) :] if self._smooth > 1 else p[:0]
        self._smooth_hist = s[len(s) - (self._window - 1) :] if self._window > 1 else s[:0]
        self.noise_floor_db = float(floor[-1])
        self._seen += n
        return np.asarray(since <= self._hang, np.bool_)
