"""Local jitter and shimmer per voiced frame, by period-synchronous peak picking.

Definitions (as Praat's "local" variants, but within one analysis frame):

* **jitter** = mean over consecutive cycle pairs of ``|P_i - P_{i-1}|`` divided by the mean
  period ``P``, where the periods are the spacings of consecutive cycle peaks.
* **shimmer** = mean over consecutive cycles of ``|A_i - A_{i-1}|`` divided by the mean peak
  amplitude ``A``.

Cycle peaks: the frame is smoothed by a short moving average (``SMOOTH_S``, against formant
ripple), its polarity is chosen so that its largest excursion is positive; the
largest sample anchors a grid of expected peak positions spaced by the frame's period ``T0``
(from the F0 tracker) in both directions; in each window of +-``SEARCH`` x T0 around a grid
point the largest sample is the cycle's peak, refined to sub-sample time and amplitude by
parabolic interpolation. As in Praat, a period more than ``MAX_PERIOD_FACTOR`` away from T0 (a
missed or spurious peak), a period pair whose ratio exceeds ``MAX_PERIOD_FACTOR`` and an
amplitude pair whose ratio exceeds ``MAX_AMPLITUDE_FACTOR`` are left out. A frame needs three
peaks (two periods) for jitter and two peaks one period apart for shimmer, else the value is NaN.
Frames span 3 periods of ``f0_min_hz`` (50 ms), so a 60 Hz voice gives only 2-3 cycles and often
NaN; values from few cycles are noisy, summarise them over many frames (e.g. the median).

Everything is vectorized over all (frame, cycle) windows at once (fancy indexing).
"""

from __future__ import annotations

import functools
import logging
import math

import numpy as np

from edge.features.frames import F32

log = logging.getLogger(__name__)

#: Half-width of each peak search window, as a fraction of the period.
SEARCH = 0.25

#: Samples per block in the coarse peak search.
POOL = 4

#: Moving-average length (s) applied before peak picking: formant ripple otherwise moves the
#: peaks from cycle to cycle (0.8 ms, 13 samples at 16 kHz, first null near 1.2 kHz; chosen
#: on EmoDB for the best agreement with Praat's jitter, see docs/pitch.md).
SMOOTH_S = 0.0008

#: Consecutive periods further apart than this ratio are not compared (Praat's default 1.3).
MAX_PERIOD_FACTOR = 1.3

#: Consecutive amplitudes further apart than this ratio are not compared (Praat's 1.6).
MAX_AMPLITUDE_FACTOR = 1.6

#: Offsets of the samples of a pooled block, and of a sample's neighbours (built once).
_IN_BLOCK = np.arange(POOL)
_NEIGHBOURS = np.arange(-1, 2)


def cycle_peaks(x: np.ndarray, period: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cycle peaks of each row of ``x`` (m, L) given its period in samples (m,).

    Returns ``(row, time, amplitude)`` flat arrays, ordered by row then time; ``time`` is in
    samples from the frame start (sub-sample), ``amplitude`` the interpolated peak value above
    the frame's mean.
    Rows with a non-finite period have no peaks.

    The search runs on maxima over blocks of ``POOL`` samples (4x less data to index), then
    picks the best sample inside the winning block.
    """
    m, length = x.shape
    ok = np.isfinite(period) & (period >= 2 * POOL)
    t0 = np.where(ok, period, length).astype(np.float64)
    # Row sums by numpy's pairwise reduction, not a BLAS product (whose rounding depends on the
    # batch shape).
    mean = np.add.reduce(x, axis=1) / np.float32(length)
    n_blocks = length // POOL
    phases = [x[:, p : n_blocks * POOL : POOL] for p in range(POOL)]
    top = functools.reduce(np.maximum, phases)
    bottom = functools.reduce(np.minimum, phases)
    # Polarity: make the largest excursion (about the frame mean) positive.
    flip = mean - bottom.min(axis=1) > top.max(axis=1) - mean
    sign = np.where(flip, np.float32(-1.0), np.float32(1.0))
    pooled = np.where(flip[:, None], -bottom, top)  # block maxima of the flipped frame
    anchor = (pooled.argmax(axis=1) + 0.5) * POOL  # in samples
    half = SEARCH * t0
    kmax = math.ceil(length / float(t0.min())) if m else 0
    ks = np.arange(-kmax, kmax + 1, dtype=np.float64)
    centre = anchor[:, None] + ks[None, :] * t0[:, None]
    valid = (centre >= POOL) & (centre <= length - POOL) & ok[:, None]
    prow, pk = np.nonzero(valid)  # row-major: ordered by row, then by k (time)
    if prow.size == 0:
        empty = np.zeros(0)
        return np.zeros(0, np.int64), empty, empty
    c = centre[prow, pk]
    h = half[prow]
    # Search windows in block units, clipped to the frame, padded to the call's widest one (the
    # padding is masked, so the pick does not depend on the other rows).
    lo = np.maximum((c - h) // POOL, 0).astype(np.int64)
    hi = np.minimum((c + h) // POOL, n_blocks - 1).astype(np.int64)
    idx = lo[:, None] + np.arange(int((hi - lo).max()) + 1)
    # Flat indices: take on a 1-D view is much faster than 2-D fancy indexing (and the method
    # spares np.take's Python wrapper).
    vals = pooled.reshape(-1).take((prow * n_blocks)[:, None] + np.minimum(idx, n_blocks - 1))
    np.putmask(vals, idx > hi[:, None], -np.inf)
    block = lo + vals.argmax(axis=1)  # first block reaching the window's maximum
    sgn = sign[prow]
    xf = np.ascontiguousarray(x).reshape(-1)
    base = prow * length
    first = block * POOL
    inside = (xf.take((base + first)[:, None] + _IN_BLOCK) * sgn[:, None]).argmax(1)
    pos = np.minimum(np.maximum(first + inside, 1), length - 2)
    # The peak sample and its neighbours about the frame mean, in the chosen polarity.
    near = xf.take((base + pos)[:, None] + _NEIGHBOURS) - mean[prow, None]
    near *= sgn[:, None]
    near64 = near.astype(np.float64)
    # A maximum on a (clipped) window edge that is not a local peak is no cycle peak.
    keep = (near64[:, 1] >= near64[:, 0]) & (near64[:, 1] >= near64[:, 2])
    prow, pos = prow[keep], pos[keep]
    ya, yb, yc = near64[keep].T
    # Parabolic interpolation of the peak time and height.
    den = ya - 2.0 * yb + yc
    safe = den < 0
    diff = ya - yc
    shift = np.where(safe, 0.5 * diff / np.where(safe, den, -1.0), 0.0)
    shift = np.minimum(np.maximum(shift, -0.5), 0.5)
    amp = yb - 0.25 * diff * shift
    return prow, pos + shift, amp


def _rows_view(buf: np.ndarray, m: int, width: int) -> np.ndarray:
    """A C-contiguous (m, width) array in the memory of ``buf`` (which holds at least that)."""
    return buf.reshape(-1)[: m * width].reshape(m, width)


def box_sum(x: np.ndarray, width: int, scratch: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """Sums of ``width`` consecutive samples along rows: shape (m, L - width + 1); element j
    covers samples j .. j + width - 1. About 2 log2(width) vector additions, no cumulative sum.

    ``scratch``: three arrays of at least x's shape to work in (the result is a view of one of
    them), so repeated calls allocate nothing."""
    m, length = x.shape
    n_out = length - width + 1
    if scratch is None:
        scratch = (np.empty_like(x), np.empty_like(x), np.empty_like(x))
    out = _rows_view(scratch[2], m, n_out)
    part, size, offset, rest, first, spare = x, 1, 0, width, True, 0
    while rest:  # part[:, j] = sum of x[:, j : j + size]
        if rest & 1:
            piece = part[:, offset : offset + n_out]
            if first:
                np.copyto(out, piece)
                first = False
            else:
                out += piece
            offset += size
        rest >>= 1
        if rest:
            nxt = _rows_view(scratch[spare], m, part.shape[1] - size)
            np.add(part[:, :-size], part[:, size:], out=nxt)
            part, spare, size = nxt, 1 - spare, size * 2
    return out


def jitter_shimmer(
    x: np.ndarray,
    period: np.ndarray,
    sample_rate: int = 16_000,
    scratch: tuple[np.ndarray, ...] | None = None,
) -> tuple[F32, F32]:
    """Local jitter and shimmer (relative) of each row of ``x`` (m, L) with period (m,) samples.

    NaN where the frame has too few usable cycles or its period is NaN (unvoiced rows cost
    almost nothing). Frames need not be DC-free. Peaks are picked on the frames smoothed by a
    ``SMOOTH_S`` moving average (symmetric, so peak times are not biased). ``scratch``: see
    :func:`box_sum` (lets a caller reuse buffers across calls).
    """
    m = x.shape[0]
    width = max(1, round(SMOOTH_S * sample_rate)) | 1
    if width > 1 and x.shape[1] > 4 * width:
        x = box_sum(x, width, scratch)
    row, t, amp = cycle_peaks(x, period)
    if row.size == 0:
        nan = np.full(m, np.nan, np.float32)
        return nan, nan.copy()
    # Period i spans peaks i and i+1; it counts when both are in the same row and it is within
    # MAX_PERIOD_FACTOR of the frame's period (a missed peak would make a double period).
    per = t[1:] - t[:-1]
    ratio_t0 = per / np.asarray(period, np.float64)[row[1:]]
    ok_p = (row[1:] == row[:-1]) & (ratio_t0 <= MAX_PERIOD_FACTOR)
    ok_p &= ratio_t0 >= 1.0 / MAX_PERIOD_FACTOR
    ratio = per[1:] / per[:-1]
    use_p = ok_p[1:] & ok_p[:-1] & (ratio <= MAX_PERIOD_FACTOR) & (ratio >= 1 / MAX_PERIOD_FACTOR)
    # Amplitudes of the two peaks around a valid period.
    a0, a1 = amp[:-1], amp[1:]
    ratio_a = a1 / np.where(a0 > 0, a0, np.inf)
    use_a = ok_p & (a1 > 0) & (ratio_a <= MAX_AMPLITUDE_FACTOR)
    use_a &= ratio_a >= 1.0 / MAX_AMPLITUDE_FACTOR
    # Four per-row means with one pair of bincounts: rows of quantity q are offset by q * m.
    index = np.concatenate([row[1:][ok_p], row[2:][use_p] + m, row + 2 * m, row[1:][use_a] + 3 * m])
    values = np.concatenate(
        [per[ok_p], np.abs(per[1:] - per[:-1])[use_p], amp, np.abs(a1 - a0)[use_a]]
    )
    # Axis 0: (jitter, shimmer); axis 1: (mean period or amplitude, mean absolute difference).
    count = np.bincount(index, minlength=4 * m).reshape(2, 2, m)
    total = np.bincount(index, weights=values, minlength=4 * m).reshape(2, 2, m)
    mean = total / np.maximum(count, 1)
    ok = (count[:, 0] >= 2) & (count[:, 1] >= 1)
    ref = mean[:, 0]
    both = np.where(ok, mean[:, 1] / np.where(ref > 0, ref, 1), np.nan).astype(np.float32)
    return both[0], both[1]
