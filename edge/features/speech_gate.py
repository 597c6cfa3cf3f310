"""Voicing gate for the energy VAD: loud but unvoiced sounds are not speech.

The energy VAD (:mod:`edge.features.vad`) fires on anything clearly above the noise floor:
keyboard clicks, a door, a burst of line noise. Speech always has voiced stretches, so a hop
stays speech only when some hop within ``VOICED_BEFORE_S`` before it or
:attr:`SpeechGate.ahead` hops after it was both energetic and voiced. The look-ahead reuses the
delay the front-end already has for the syllable-nucleus decision (no extra latency): it admits a
short unvoiced onset ("s", "t") before the first vowel; the look-back keeps unvoiced codas and
the VAD hangover after the last vowel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.features.strided import windows

B = npt.NDArray[np.bool_]

#: How long after the last voiced energetic hop an energetic hop still counts as speech (s).
VOICED_BEFORE_S = 0.4


class SpeechGate:
    """One per channel; :meth:`gate` hop rows in stream order (no row twice)."""

    def __init__(self, config: FeatureConfig, ahead: int) -> None:
        if ahead < 0:
            raise ValueError("ahead must be >= 0")
        self.back = max(0, round(VOICED_BEFORE_S / config.hop_s))
        """Hops looked back for a voiced energetic hop."""
        self.ahead = ahead
        """Hops looked ahead (the caller passes that many later rows, fewer only at the end)."""
        self.reset()

    def reset(self) -> None:
        self._past: B = np.zeros(self.back, np.bool_)

    def gate(self, energetic: B, voiced: B, future_anchor: B) -> B:
        """Speech flags for ``n`` rows given their energy-VAD and voicing flags and the anchors
        (energetic and voiced) of up to :attr:`ahead` rows that follow (missing ones: silence)."""
        n = len(energetic)
        anchor = np.asarray(energetic & voiced, np.bool_)
        future = np.zeros(self.ahead, np.bool_)
        m = min(self.ahead, len(future_anchor))
        future[:m] = future_anchor[:m]
        seq = np.concatenate([self._past, anchor, future])
        near = np.asarray(windows(seq, self.back + 1 + self.ahead).any(axis=1), np.bool_)[:n]
        self._past = seq[len(seq) - self.ahead - self.back : len(seq) - self.ahead]
        return np.asarray(energetic & near, np.bool_)
