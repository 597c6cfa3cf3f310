"""Frame-wise F0 and voicing by normalised autocorrelation (Boersma 1993), vectorized over frames.

Each frame (three periods of ``f0_min_hz``, 50 ms at 60 Hz) has its mean removed and is
multiplied by a Hann window; its autocorrelation comes from one real FFT and one inverse FFT
(zero-padded, so no circular wrap in the lag range) and is divided by the window's own
autocorrelation, which gives the signal's normalised autocorrelation ``r(tau)`` (1 at lag 0).

Candidates are the local maxima of ``r`` with lags in ``[sr/f0_max, sr/f0_min]``, refined by
parabolic interpolation. As in Praat, a candidate's strength is
``r(tau) + OCTAVE_COST * log2(f / f0_min)``, which favours the shortest of nearly equal periods
(against subharmonic picks). Praat's path finder over the whole file, which also penalises
octave jumps and voicing changes between frames, is left out on purpose (no state, same result
however frames are batched), so the per-frame octave cost is higher than Praat's 0.01 (tuned on
EmoDB, see ``docs/pitch.md``). Instead F0 is the best of the frame's :data:`CANDIDATES` strongest
peaks against the median F0 of its voiced neighbours within
:data:`~edge.features.pitch_continuity.CONTEXT_HOPS` hops (:mod:`edge.features.pitch_continuity`:
repairs short octave jumps); callers pass those neighbours' frames as ``context`` rows.

**Voicing** is ``r`` at the strongest peak, clipped to 0..1: the share of the frame's power that is
periodic at that lag (HNR = ``10 log10(r / (1 - r))``). It does not depend on level, except that
frames whose RMS over the window is below ``config.vad_floor_dbfs`` (nothing is speech down there:
hum, line noise) get 0. A frame is voiced when voicing >= ``config.voicing_threshold``.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass

import numpy as np
from scipy import fft as _fft  # pocketfft: ~3x faster than numpy's on many short rows

from edge.features.config import FeatureConfig
from edge.features.frames import F32
from edge.features.pitch_continuity import CONTEXT_HOPS, choose
from edge.features.voice_quality import jitter_shimmer

log = logging.getLogger(__name__)


def _pocketfft_with_out() -> object | None:
    """scipy's low-level pocketfft module, if it can write into given arrays (checked against the
    public API); else None. Reusing buffers spares a fresh ~0.5 MB allocation per block, which
    the allocator maps and unmaps each time (page faults cost more than the FFT on small VMs)."""
    try:
        from scipy.fft._pocketfft import pypocketfft as pocket

        x = np.random.default_rng(0).standard_normal((3, 12)).astype(np.float32)
        spec = np.empty((3, 7), np.complex64)
        pocket.r2c(x, (1,), True, 0, spec, 1)
        power = np.abs(spec) ** 2
        acf = np.empty_like(power)
        pocket.dct(power, 1, (1,), 0, acf, 1)
        ok = np.allclose(spec, _fft.rfft(x, axis=1), rtol=1e-5, atol=1e-5) and np.allclose(
            acf, _fft.dct(power, type=1, axis=1), rtol=1e-5, atol=1e-4
        )
        return pocket if ok else None
    except Exception:  # any change in the private API: use the public one
        return None


_POCKET = _pocketfft_with_out()


def _rfft_into(x: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = rfft(x, axis=1)`` (x C-contiguous float32, out complex64)."""
    if _POCKET is not None:
        _POCKET.r2c(x, (1,), True, 0, out, 1)  # type: ignore[attr-defined]
    else:
        out[...] = _fft.rfft(x, axis=1)


def _dct1_into(x: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = dct(x, type=1, axis=1)`` (unnormalised)."""
    if _POCKET is not None:
        _POCKET.dct(x, 1, (1,), 0, out, 1)  # type: ignore[attr-defined]
    else:
        out[...] = _fft.dct(x, type=1, axis=1)


#: Frames analysed per block (the scratch arrays stay in cache); results do not depend on it.
BLOCK = 128

#: Analysis window length in periods of ``f0_min_hz`` (Praat's AC default is 3).
PERIODS_PER_WINDOW = 3.0

#: Strength bonus per octave above ``f0_min_hz`` (Praat's "octave cost"; Praat uses 0.01 plus a
#: path finder, this per-frame tracker 0.06, tuned for the lowest gross error against Praat).
OCTAVE_COST = 0.06

#: Candidates per frame (the strongest autocorrelation peaks) that the continuity step
#: (:mod:`edge.features.pitch_continuity`) may choose from.
CANDIDATES = 4

#: Frames quieter than this (dBFS RMS over the window) are unvoiced whatever their periodicity,
#: when the configuration's ``vad_floor_dbfs`` (below which nothing is speech) is lower.
SILENCE_DBFS = -100.0


@dataclass(frozen=True)
class PitchFrames:
    """Per-frame pitch results, one value per input frame."""

    f0_hz: F32
    """Fundamental frequency in Hz; NaN when unvoiced (voicing < ``config.voicing_threshold``)."""
    voicing: F32
    """Voicing confidence 0..1: normalised autocorrelation at the period (0 for silence)."""
    jitter: F32
    """Relative local jitter (see :mod:`edge.features.voice_quality`); NaN when unvoiced."""
    shimmer: F32
    """Relative local shimmer (see :mod:`edge.features.voice_quality`); NaN when unvoiced."""

    def __len__(self) -> int:
        return int(self.f0_hz.shape[0])


def _hann(n: int) -> np.ndarray:
    """Symmetric-about-the-centre Hann window of ``n`` samples (no zero end points)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * (np.arange(n) + 0.5) / n)


class _Workspace:
    """Scratch arrays for one ``analyze`` call, reused from block to block."""

    def __init__(self, rows: int, n_fft: int, n_lags: int, length: int) -> None:
        bins = n_fft // 2 + 1
        self.rows = rows
        self.voiced = np.empty((rows, length), np.float32)
        self.smooth = tuple(np.empty((rows, length), np.float32) for _ in range(3))
        self.frames = np.zeros((rows, n_fft), np.float32)  # zero padding stays zero
        self.spec = np.empty((rows, bins), np.complex64)
        self.power = np.empty((rows, bins), np.float32)
        self.acf = np.empty((rows, bins), np.float32)
        self.strength = np.empty((rows, n_lags), np.float32)
        self.mask_a = np.empty((rows, n_lags), np.bool_)
        self.mask_b = np.empty((rows, n_lags), np.bool_)
        self.top = np.empty((rows, CANDIDATES), np.intp)


class PitchTracker:
    """Stateless F0 tracker. ``analyze`` takes frames of :attr:`frame_length` samples."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        sr = config.sample_rate
        self.tau_min = max(2, math.floor(sr / config.f0_max_hz))
        self.tau_max = math.ceil(sr / config.f0_min_hz)
        self.frame_length: int = round(PERIODS_PER_WINDOW * sr / config.f0_min_hz)
        """Samples per frame, centred on the hop centre."""
        length = self.frame_length
        if length < self.tau_max + 3:
            raise ValueError("frame too short for the F0 range")
        # Zero padding so that lags up to tau_max + 1 do not wrap around.
        self._n_fft = int(_fft.next_fast_len(length + self.tau_max + 2, real=True))
        self._window = _hann(length).astype(np.float32)
        # r(0) = n_fft * sum of the windowed frame squared = n_fft * RMS^2 * sum(window^2).
        floor_db = max(SILENCE_DBFS, config.vad_floor_dbfs)
        self._r0_floor = np.float32(
            10.0 ** (floor_db / 10.0) * float(np.sum(self._window**2)) * self._n_fft
        )
        spec = _fft.rfft(_hann(length), self._n_fft)
        r_win = _fft.irfft(spec.real**2 + spec.imag**2, self._n_fft)[: self.tau_max + 2]
        # Dividing by the window's normalised autocorrelation undoes its taper.
        self._inv_r_win = (r_win[0] / r_win).astype(np.float32)
        taus = np.arange(self.tau_min, self.tau_max + 1, dtype=np.float64)
        self._octave_bonus = (OCTAVE_COST * np.log2(sr / config.f0_min_hz / taus)).astype(
            np.float32
        )
        self._rate = np.float32(sr)
        self._length32 = np.float32(length)
        self._row_index = np.arange(BLOCK)
        self._three = np.arange(3)
        self.context_hops: int = CONTEXT_HOPS
        """Neighbouring frames on each side the continuity step reads (see :meth:`analyze`)."""
        self._local = threading.local()
        """Per-thread scratch (:class:`_Workspace`), grown on demand and kept between calls."""

    def _workspace(self, rows: int) -> _Workspace:
        """Scratch for ``rows`` frames (at least), reused: fresh arrays per call cost more than
        the small batches of a stream. Results do not depend on the workspace size."""
        work: _Workspace | None = getattr(self._local, "work", None)
        if work is None or work.rows < rows:
            n_lags = self.tau_max - self.tau_min + 1
            work = _Workspace(rows, self._n_fft, n_lags, self.frame_length)
            self._local.work = work
        return work

    def analyze(self, frames: np.ndarray, context: int = 0) -> PitchFrames:
        """F0, voicing, jitter and shimmer of each row of ``frames`` (n, frame_length):
        ``finish(frames[context:n - context], candidates(frames), context)``.

        ``context``: the first and last ``context`` rows are neighbours only (frames of the hops
        before and after; all-zero rows where the signal has no such hop): they inform the
        continuity step of the rows between and are not returned. With ``context`` >=
        :data:`~edge.features.pitch_continuity.CONTEXT_HOPS` (:attr:`context_hops`) the result
        for a row depends only on its own frame and its neighbours', so cutting a stream into
        calls that overlap by that much gives the same output as one call over all of it (rows
        beyond either end of ``frames`` count as unvoiced)."""
        x = self._checked(frames)
        if context < 0 or 2 * context > x.shape[0]:
            raise ValueError(f"context {context} does not fit {x.shape[0]} frames")
        return self.finish(x[context : x.shape[0] - context], self.candidates(x), context)

    def candidates(self, frames: np.ndarray) -> F32:
        """Per-frame summary (n, 1 + 2 * CANDIDATES) float32 of each row of ``frames``: voicing,
        then the :data:`CANDIDATES` strongest peaks' periods (samples, NaN for missing ones) and
        strengths (-inf), strongest first. Row ``i`` depends on frame ``i`` only, so a streaming
        caller can keep the rows of its context frames instead of analysing them again."""
        x = self._checked(frames)
        total, length = x.shape
        out = np.empty((total, 1 + 2 * CANDIDATES), np.float32)
        work = self._workspace(min(total, BLOCK))
        for a in range(0, total, BLOCK):
            b = min(total, a + BLOCK)
            # Per-row pairwise sums (not a BLAS product): the same in any batch.
            mean = np.add.reduce(x[a:b], axis=1) / self._length32
            head = work.frames[: b - a, :length]
            np.subtract(x[a:b], mean[:, None], out=head)
            head *= self._window
            out[a:b, 0] = self._voicing(
                work, b - a, out[a:b, 1 : 1 + CANDIDATES], out[a:b, 1 + CANDIDATES :]
            )
        return out

    def finish(self, frames: np.ndarray, candidates: np.ndarray, context: int) -> PitchFrames:
        """Results for ``frames`` (n, frame_length) from :meth:`candidates` of those frames with
        ``context`` rows of their neighbours' before and after (n + 2 * context rows)."""
        x = self._checked(frames)
        n = x.shape[0]
        if context < 0 or candidates.shape != (n + 2 * context, 1 + 2 * CANDIDATES):
            raise ValueError(f"candidates {candidates.shape} do not fit {n} frames + {context}")
        thr = self.config.voicing_threshold
        voicing_all = candidates[:, 0]
        period_all = choose(
            candidates[:, 1 : 1 + CANDIDATES], candidates[:, 1 + CANDIDATES :], voicing_all >= thr
        )
        period = period_all[context : context + n]
        voicing = voicing_all[context : context + n].copy()
        jitter = np.full(n, np.nan, np.float32)
        shimmer = np.full(n, np.nan, np.float32)
        work = self._workspace(min(n, BLOCK))
        for a in range(0, n, BLOCK):
            b = min(n, a + BLOCK)
            rows = (voicing[a:b] >= thr).nonzero()[0]
            if rows.size:  # jitter/shimmer on the voiced rows only, gathered into scratch
                xv = x[a:b].take(rows, axis=0, out=work.voiced[: rows.size])
                jitter[a + rows], shimmer[a + rows] = jitter_shimmer(
                    xv, period[a + rows], self.config.sample_rate, work.smooth
                )
        voiced = voicing >= thr
        f0 = np.full(n, np.nan, np.float32)
        np.divide(self._rate, period, out=f0, where=voiced)
        return PitchFrames(f0_hz=f0, voicing=voicing, jitter=jitter, shimmer=shimmer)

    def _checked(self, frames: np.ndarray) -> np.ndarray:
        x = np.asarray(frames, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.frame_length:
            raise ValueError(f"frames must have shape (n, {self.frame_length}), got {x.shape}")
        return x

    def _voicing(
        self, work: _Workspace, m: int, cand_period: np.ndarray, cand_strength: np.ndarray
    ) -> F32:
        """Voicing of the first ``m`` windowed, zero-padded rows of ``work.frames``; their
        :data:`CANDIDATES` strongest peaks (refined period in samples, strength; NaN / -inf for
        missing ones) go to ``cand_period`` and ``cand_strength`` (m, CANDIDATES), strongest
        first (column 0 is the frame's own choice)."""
        tmin, tmax = self.tau_min, self.tau_max
        spec, power, r = work.spec[:m], work.power[:m], work.acf[:m]
        _rfft_into(work.frames[:m], spec)
        np.square(spec.real, out=power)
        np.square(spec.imag, out=r)
        power += r
        # The autocorrelation is the inverse transform of the (real, even) power spectrum: a
        # DCT-I of its half, which pocketfft does faster than irfft (scaled by n_fft).
        _dct1_into(power, r)
        r0 = r[:, 0]
        silent = r0 <= self._r0_floor
        # Normalised autocorrelation at lags tmin-1 .. tmax+1.
        seg = r[:, tmin - 1 : tmax + 2]
        seg *= self._inv_r_win[tmin - 1 : tmax + 2]
        seg /= np.where(silent, np.float32(1.0), r0)[:, None]
        left, mid, right = seg[:, :-2], seg[:, 1:-1], seg[:, 2:]
        not_peak, below, strength = work.mask_a[:m], work.mask_b[:m], work.strength[:m]
        np.less_equal(mid, left, out=not_peak)
        np.less(mid, right, out=below)
        not_peak |= below
        # Heights above 1 (level changes inside the window) must not beat a shorter period.
        np.minimum(mid, np.float32(1.0), out=strength)
        strength += self._octave_bonus
        np.putmask(strength, not_peak, np.float32(-np.inf))
        # The CANDIDATES strongest peaks, strongest first (repeated argmax: cheaper than a
        # partition for so few); rows with fewer peaks get -inf strengths.
        rows = self._row_index[:m]
        flat_strength = strength.reshape(-1)
        row_start = rows * strength.shape[1]
        top = work.top[:m]
        for j in range(CANDIDATES):
            if j:
                flat_strength[row_start + top[:, j - 1]] = -np.inf
            strength.argmax(axis=1, out=top[:, j])
            cand_strength[:, j] = flat_strength.take(row_start + top[:, j])
        best = top[:, 0]
        found = ~not_peak[rows, best] & ~silent
        # Parabolic refinement of the candidates: seg[row, lag + 0..2], one flat gather.
        start = (rows * r.shape[1] + (tmin - 1))[:, None] + top
        ya, yb, yc = np.moveaxis(r.reshape(-1).take(start[:, :, None] + self._three), 2, 0)
        curv = np.minimum(ya - 2.0 * yb + yc, np.float32(-1e-12))
        shift = np.minimum(np.maximum(np.float32(0.5) * (ya - yc) / curv, -0.5), 0.5)
        height = yb[:, 0] - np.float32(0.25) * (ya[:, 0] - yc[:, 0]) * shift[:, 0]
        lags = top + tmin + shift
        usable = (cand_strength > -np.inf) & ~silent[:, None]
        np.copyto(cand_period, np.where(usable, lags, np.nan))
        np.copyto(cand_strength, np.float32(-np.inf), where=~usable)
        return np.where(found, np.minimum(np.maximum(height, 0.0), 1.0), 0.0).astype(np.float32)
