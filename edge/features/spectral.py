"""Per-frame level and spectral features: RMS level, log-mel, alpha ratio, Hammarberg index.

Pure and stateless: every row of the input is analysed on its own, so results do not depend on how
a stream was cut into blocks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Level reported for digital silence (and anything quieter), in dBFS.
LEVEL_FLOOR_DBFS = -120.0
#: Mean-square power matching :data:`LEVEL_FLOOR_DBFS`.
POWER_FLOOR = 10.0 ** (LEVEL_FLOOR_DBFS / 10.0)
#: Added to mel power before the natural log (see :class:`edge.features.frames.FrameBatch`).
MEL_EPS = 1e-10
#: Added to band energies before ratios in dB, so silence gives 0 dB rather than NaN.
BAND_EPS = 1e-12


@dataclass(frozen=True)
class SpectralFrames:
    """Features of ``n`` frames."""

    mean_square: F64
    """Mean of the squared samples of each (unwindowed) frame, floored at :data:`POWER_FLOOR`."""
    level_dbfs: F32
    """``10*log10(2*mean_square)`` shifted so a full-scale sine reads -3 dBFS; floor -120."""
    mel: F32
    """Natural log of mel-band power + 1e-10, shape (n, n_mels)."""
    alpha_ratio_db: F32
    """Energy 1-5 kHz minus energy 50 Hz-1 kHz, in dB (NaN if a band lies above Nyquist)."""
    hammarberg_db: F32
    """Strongest bin 0-2 kHz minus strongest bin 2-5 kHz, in dB (NaN if a band is empty)."""


def hz_to_mel(hz: npt.ArrayLike) -> F64:
    """HTK mel scale."""
    return np.asarray(2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0), np.float64)


def mel_to_hz(mel: npt.ArrayLike) -> F64:
    """Inverse of :func:`hz_to_mel`."""
    return np.asarray(700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0), np.float64)


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int, fmin: float, fmax: float) -> F32:
    """Triangular filters (peak 1) on the HTK mel scale, shape (n_fft//2+1, n_mels).

    A band narrower than one FFT bin would get no weight at all; it then takes its nearest bin, so
    no mel band is constant.
    """
    freqs = np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lo) / (mid - lo)
    falling = (hi - freqs[None, :]) / (hi - mid)
    weights = np.clip(np.minimum(rising, falling), 0.0, None)
    for band in np.flatnonzero(weights.sum(axis=1) == 0.0):
        weights[band, int(np.argmin(np.abs(freqs - mid[band, 0])))] = 1.0
    return np.ascontiguousarray(weights.T, np.float32)


class SpectralAnalyzer:
    """Turns frames of ``config.frame`` samples into :class:`SpectralFrames`."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self.frame_length = config.frame
        self.n_fft = 1 << max(0, (self.frame_length - 1).bit_length())
        n = self.frame_length
        # Periodic Hann window, normalised so a sine of amplitude A peaks at A**2/4.
        window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
        self._window = (window / window.sum()).astype(np.float32)
        sr = config.sample_rate
        bank = mel_filterbank(config.n_mels, self.n_fft, sr, config.mel_fmin_hz, config.mel_fmax_hz)
        # Sparse form of the bank: the nonzero bins of band 0, then band 1, ... (no BLAS: a small
        # matmul through a multi-threaded BLAS is 10-100x slower on a busy 2-4 core board).
        band_of, self._mel_bins = np.nonzero(bank.T)
        self._mel_weights = bank.T[band_of, self._mel_bins].astype(np.float32)
        self._mel_starts = np.searchsorted(band_of, np.arange(config.n_mels))
        freqs = np.arange(self.n_fft // 2 + 1, dtype=np.float64) * (sr / self.n_fft)
        # Each band is a contiguous run of bins: slices are much cheaper than masks.
        self._alpha_lo = _bins(freqs, 50.0, 1000.0, closed=False)
        self._alpha_hi = _bins(freqs, 1000.0, 5000.0, closed=False)
        self._hamm_lo = _bins(freqs, 0.0, 2000.0, closed=True)
        self._hamm_hi = _bins(freqs, 2000.0 + 1e-9, 5000.0, closed=True)
        if self._alpha_hi is None or self._hamm_hi is None:
            log.warning("sample rate %d Hz: alpha ratio / Hammarberg index will be NaN", sr)

    def analyze(self, frames: npt.NDArray[np.float32]) -> SpectralFrames:
        """Features of each row of ``frames`` (shape (n, frame_length), float32)."""
        if frames.ndim != 2 or frames.shape[1] != self.frame_length:
            raise ValueError(f"frames must have shape (n, {self.frame_length})")
        n = frames.shape[0]
        # Row-wise float64 sums do not depend on how many rows there are: exact block invariance.
        mean_square = np.maximum(
            np.square(frames, dtype=np.float64).sum(axis=1) / self.frame_length, POWER_FLOOR
        )
        # Full-scale sine: mean square 0.5 -> -3.01 dBFS.
        level = (10.0 * np.log10(mean_square)).astype(np.float32)
        if n == 0:
            empty = np.zeros(0, np.float32)
            return SpectralFrames(
                mean_square, level, np.zeros((0, self.config.n_mels), np.float32), empty, empty
            )
        spec = np.fft.rfft(frames * self._window, n=self.n_fft, axis=1)
        square = spec.real * spec.real
        square += spec.imag * spec.imag
        power: F32 = square.astype(np.float32, copy=False)  # no copy for float32 frames
        mel = np.add.reduceat(
            power[:, self._mel_bins] * self._mel_weights, self._mel_starts, axis=1
        )
        mel += np.float32(MEL_EPS)
        np.log(mel, out=mel)
        alpha = _band_ratio_db(
            _masked_sum(power, self._alpha_hi), _masked_sum(power, self._alpha_lo), n
        )
        hamm = _band_ratio_db(
            _masked_max(power, self._hamm_lo), _masked_max(power, self._hamm_hi), n
        )
        return SpectralFrames(mean_square, level, mel, alpha, hamm)


def _bins(freqs: F64, lo: float, hi: float, closed: bool) -> slice | None:
    """The bins with ``lo <= f < hi`` (``<= hi`` when closed) as a slice; None when empty."""
    inside = np.flatnonzero((freqs >= lo) & ((freqs <= hi) if closed else (freqs < hi)))
    return slice(int(inside[0]), int(inside[-1]) + 1) if inside.size else None


def _masked_sum(power: F32, band: slice | None) -> F64 | None:
    return None if band is None else power[:, band].sum(axis=1, dtype=np.float64)


def _masked_max(power: F32, band: slice | None) -> F64 | None:
    return None if band is None else power[:, band].max(axis=1).astype(np.float64)


def _band_ratio_db(num: F64 | None, den: F64 | None, n: int) -> F32:
    if num is None or den is None:
        return np.full(n, np.nan, np.float32)
    return (10.0 * np.log10((num + BAND_EPS) / (den + BAND_EPS))).astype(np.float32)
