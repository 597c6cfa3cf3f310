"""Frame-wise F0 and voicing: YIN (de Cheveigné & Kawahara 2002), vectorized over frames.

For every frame the difference function ``d(tau) = sum_{j<W} (x_j - x_{j+tau})^2`` is built from
an FFT cross-correlation and cumulative sums of ``x^2`` (no loop over lags), normalised by its
cumulative mean (``d'``), and the period is the first local minimum of ``d'`` below a threshold
(else the global minimum), refined by parabolic interpolation of ``d``.

Voicing confidence is ``1 - d'(T0)`` clipped to 0..1: a perfectly periodic frame scores 1, white
noise about 0.2 or less. Frames whose energy is negligible (below ``SILENCE_RMS``) score 0.

Each frame is analysed on its own (no state between calls, no smoothing across frames), so the
result for a frame does not depend on how frames are batched. Frames are processed in blocks of
``BLOCK`` to bound memory.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as _fft  # pocketfft: ~3x faster than numpy's on many short rows

from edge.features.config import FeatureConfig
from edge.features.frames import F32
from edge.features.voice_quality import jitter_shimmer

log = logging.getLogger(__name__)

#: Frames analysed per block (bounds temporary memory to a few MB).
BLOCK = 2048

#: Frames with an RMS below this (about -100 dBFS) are unvoiced with confidence 0.
SILENCE_RMS = 1e-5

#: YIN absolute threshold on d': the first dip below it is taken as the period.
DIP_THRESHOLD = 0.15

#: A dip also qualifies when it is within this margin of the frame's global minimum of d'
#: (keeps the shortest near-best period when no dip is below ``DIP_THRESHOLD``: avoids
#: subharmonic picks).
DIP_MARGIN = 0.05


@dataclass(frozen=True)
class PitchFrames:
    """Per-frame pitch results, one value per input frame."""

    f0_hz: F32
    """Fundamental frequency in Hz; NaN when unvoiced (voicing < ``config.voicing_threshold``)."""
    voicing: F32
    """Voicing confidence 0..1 (``1 - d'(T0)``, 0 for silence)."""
    jitter: F32
    """Relative local jitter (see :mod:`edge.features.voice_quality`); NaN when unvoiced."""
    shimmer: F32
    """Relative local shimmer (see :mod:`edge.features.voice_quality`); NaN when unvoiced."""

    def __len__(self) -> int:
        return int(self.f0_hz.shape[0])


class PitchTracker:
    """Stateless YIN F0 tracker. ``analyze`` takes frames of :attr:`frame_length` samples."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        sr = config.sample_rate
        self.tau_min = max(2, math.floor(sr / config.f0_max_hz))
        self.tau_max = math.ceil(sr / config.f0_min_hz)
        # Frame = integration window W + largest lag + 2 (one lag of headroom for the
        # parabola); rounded up to a fast FFT length, the surplus going to W.
        self.frame_length: int = int(_fft.next_fast_len(2 * self.tau_max + 2, real=True))
        self.window = self.frame_length - self.tau_max - 2
        self._n_fft = self.frame_length
        self._taus = np.arange(1, self.tau_max + 2, dtype=np.float32)

    def analyze(self, frames: np.ndarray) -> PitchFrames:
        """F0, voicing, jitter and shimmer of each row of ``frames`` (n, frame_length)."""
        x = np.asarray(frames, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.frame_length:
            raise ValueError(f"frames must have shape (n, {self.frame_length}), got {x.shape}")
        n = x.shape[0]
        period = np.full(n, np.nan, np.float32)
        voicing = np.zeros(n, np.float32)
        jitter = np.full(n, np.nan, np.float32)
        shimmer = np.full(n, np.nan, np.float32)
        for a in range(0, n, BLOCK):
            b = min(n, a + BLOCK)
            xb = x[a:b] - x[a:b].mean(axis=1, keepdims=True)
            period[a:b], voicing[a:b] = self._yin(xb)
            voiced = voicing[a:b] >= self.config.voicing_threshold
            if voiced.any():
                rows = np.flatnonzero(voiced)
                j, s = jitter_shimmer(xb[rows], period[a:b][rows])
                jitter[a + rows] = j
                shimmer[a + rows] = s
        voiced = voicing >= self.config.voicing_threshold
        f0 = np.where(voiced, np.float32(self.config.sample_rate) / period, np.nan)
        return PitchFrames(
            f0_hz=f0.astype(np.float32),
            voicing=voicing,
            jitter=jitter,
            shimmer=shimmer,
        )

    def _yin(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Period (samples, float32) and voicing (0..1) for DC-free frames ``x`` (m, L)."""
        m = x.shape[0]
        w, tmax, tmin = self.window, self.tau_max, self.tau_min
        nfft = self._n_fft
        # r[tau] = sum_{j<W} x_j x_{j+tau}, tau = 0..tmax+1 (no circular wrap since j+tau < L).
        spec_w = _fft.rfft(x[:, :w], nfft, axis=1)
        spec_x = _fft.rfft(x, nfft, axis=1)
        r = _fft.irfft(np.conj(spec_w) * spec_x, nfft, axis=1)[:, : tmax + 2]
        # e[tau] = sum_{j<W} x_{j+tau}^2, by the running-window recurrence
        # e[tau+1] = e[tau] + x_{tau+W}^2 - x_tau^2 (one cumulative sum over tmax+1 lags).
        sq = np.square(x)
        e = np.empty((m, tmax + 2), np.float32)
        e[:, 0] = sq[:, :w].sum(axis=1)
        np.cumsum(sq[:, w : w + tmax + 1] - sq[:, : tmax + 1], axis=1, out=e[:, 1:])
        e[:, 1:] += e[:, :1]
        d = e[:, :1] + e - 2.0 * r.astype(np.float32)  # d[0] == 0 up to rounding
        d = np.maximum(d[:, 1:], 0.0)  # tau = 1..tmax+1
        energy = e[:, 0]
        silent = energy < np.float32(w * SILENCE_RMS**2)
        cm = np.cumsum(d, axis=1)
        # d'(tau) = d(tau) * tau / sum_{1..tau} d; tiny floor avoids 0/0 for silent frames.
        tiny = np.float32(1e-30)
        dn = d * self._taus / np.maximum(cm, tiny)
        # Candidates tau = tmin..tmax, with neighbours tmin-1 .. tmax+1 (index tau-1).
        seg = dn[:, tmin - 2 : tmax + 1]
        mid = seg[:, 1:-1]
        gmin = mid.min(axis=1)
        thr = np.maximum(np.float32(DIP_THRESHOLD), gmin + np.float32(DIP_MARGIN))
        is_dip = (mid < seg[:, :-2]) & (mid <= seg[:, 2:]) & (mid <= thr[:, None])
        has_dip = is_dip.any(axis=1)
        idx = np.where(has_dip, is_dip.argmax(axis=1), mid.argmin(axis=1))
        rows = np.arange(m)
        tau = idx + tmin  # integer lag
        # Parabolic refinement on d (as in YIN step 5).
        ya = d[rows, tau - 2]
        yb = d[rows, tau - 1]
        yc = d[rows, tau]
        den = ya - 2.0 * yb + yc
        safe = den > 0
        shift = np.where(safe, 0.5 * (ya - yc) / np.where(safe, den, 1.0), 0.0)
        shift = np.clip(shift, -0.5, 0.5)
        period = (tau + shift).astype(np.float32)
        dmin = dn[rows, tau - 1]
        voicing = np.clip(1.0 - dmin, 0.0, 1.0).astype(np.float32)
        voicing[silent] = 0.0
        period[silent] = np.nan
        return period, voicing
