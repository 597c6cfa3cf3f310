"""Trailing-window tempo and pitch variability, and pauses. Causal; carries state across calls.

For hop ``i`` the window is the last ``rate_window_s`` of hops up to and including ``i`` (shorter at
the start of the stream, where it covers only what has been heard).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.features.syllables import MICRO

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Fewest voiced hops in the window for a pitch SD (0.2 s at 10 ms hops).
MIN_VOICED_HOPS_FOR_SD = 20
#: Semitones subtracted before sums of squares, to keep the variance numerically clean.
_ST_CENTRE = 50.0


@dataclass(frozen=True)
class TempoFrames:
    """Window statistics for ``n`` hops."""

    speech_rate_sps: F32
    """Syllables per second of window (pauses included)."""
    articulation_rate_sps: F32
    """Syllables per second of speech (VAD) time in the window; NaN without speech."""
    pitch_sd_st: F32
    """Population SD of voiced F0 (semitones) in the window; NaN below the voiced minimum."""
    pause_s: F32
    """Length of the pause ending at this hop, else 0."""


class TempoTracker:
    """One per channel; feed hops in stream order."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self._window = max(1, round(config.rate_window_s / config.hop_s))
        self._min_pause = max(1, round(config.min_pause_s / config.hop_s))
        self.reset()

    def reset(self) -> None:
        self._hist = np.zeros((self._window, 5), np.float64)
        """The previous ``window`` hops: micro-syllables, vad, voiced, centred F0, its square (zeros
        before the stream)."""
        self._sums = np.zeros(5, np.float64)
        """Window sums at the last hop."""
        self._seen = 0
        """Hops seen so far (to size the window at the start)."""
        self._last_speech: int | None = None
        """Stream index of the last speech hop, if any."""

    def update(self, micro_syllables: npt.NDArray[np.int64], vad: B, f0_st: F32) -> TempoFrames:
        """Statistics for the next hops, from their syllables in integer millionths
        (``edge.features.syllables.MICRO``; a detected nucleus is one million), speech flags
        and F0 in semitones."""
        n = len(micro_syllables)
        w = self._window
        hop_s = self.config.hop_s
        voiced = np.isfinite(f0_st)
        cols = np.empty((n, 5), np.float64)
        cols[:, 0] = micro_syllables
        cols[:, 1] = vad
        cols[:, 2] = voiced
        st = cols[:, 3]
        st[:] = f0_st
        st -= _ST_CENTRE
        st[~voiced] = 0.0
        np.multiply(st, st, out=cols[:, 4])
        x = np.concatenate([self._hist, cols])
        # Running sums: each hop adds its row and drops the one ``w`` hops back.
        sums = np.cumsum(cols - x[:n], axis=0)
        sums += self._sums
        # The counts are integers (float64 holds them exactly): round them so they never drift.
        np.rint(sums[:, :3], out=sums[:, :3])
        if n:
            self._sums = sums[-1].copy()
        self._hist = x[n:]
        nuc, sp, nv, s1, s2 = sums.T

        idx = np.arange(self._seen, self._seen + n)
        nuc = nuc / MICRO
        speech_rate = nuc / (np.minimum(idx + 1, w) * hop_s)
        has_speech = sp > 0
        artic = np.where(has_speech, nuc / (np.where(has_speech, sp, 1.0) * hop_s), np.nan)
        enough = nv >= MIN_VOICED_HOPS_FOR_SD
        safe_nv = np.where(enough, nv, 1.0)
        mean = s1 / safe_nv
        var = np.maximum(s2 / safe_nv - mean * mean, 0.0)
        sd = np.where(enough, np.sqrt(var), np.nan)
        pause = self._pauses(vad, idx)
        self._seen += n
        return TempoFrames(
            speech_rate.astype(np.float32),
            artic.astype(np.float32),
            sd.astype(np.float32),
            pause,
        )

    def _pauses(self, vad: B, idx: npt.NDArray[np.int64]) -> F32:
        out = np.zeros(len(vad), np.float32)
        if not vad.any():
            return out
        speech_idx = idx[vad]
        prev = np.concatenate(
            [[self._last_speech if self._last_speech is not None else -1], speech_idx[:-1]]
        )
        gap = speech_idx - prev - 1
        is_pause = (gap >= self._min_pause) & (prev >= 0)
        out[(speech_idx - self._seen)[is_pause]] = gap[is_pause] * self.config.hop_s
        self._last_speech = int(speech_idx[-1])
        return out
