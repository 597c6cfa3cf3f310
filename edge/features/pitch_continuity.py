"""Octave-error repair for the frame-wise F0 tracker: each voiced frame's period candidates are
scored against the median F0 of its voiced neighbours.

A frame alone cannot tell a true octave from an octave error when its autocorrelation has two
nearly equal peaks (a weak first harmonic, creak, the onset or end of a voiced stretch). Praat
resolves this with a Viterbi path over the whole utterance; a streaming tracker that must give
the same output however the stream is cut cannot. This step looks at a fixed window instead:

1. The reference of frame ``i`` is the median of ``log2(period)`` of the strongest candidate of
   every voiced frame in ``[i - CONTEXT_HOPS, i + CONTEXT_HOPS]`` (frame ``i`` included; frames
   outside the analysed sequence count as unvoiced).
2. Each candidate ``c`` of frame ``i`` scores ``strength_c - JUMP_COST * |log2(period_c) - ref_i|``
   and the best score gives the frame's period.

A frame is thus moved to another of its own autocorrelation peaks only when that peak is almost as
strong and agrees with most of its neighbours; isolated octave jumps and short runs of them (up to
``CONTEXT_HOPS`` frames) go, real pitch movement (which its neighbours share) stays. Voicing is
not touched: it stays the periodicity of the frame's strongest candidate, so voiced/unvoiced calls
are the same with or without this step. The window is a pure function of
``2 * CONTEXT_HOPS + 1`` frames, so the front-end keeps its block-size invariance by analysing
``CONTEXT_HOPS`` hops of context either side (30 ms more latency).

``CONTEXT_HOPS`` and ``JUMP_COST`` were chosen on EmoDB (GPE against Praat, ``docs/pitch.md``:
a flat optimum around 3-5 hops and 0.2-0.3 per octave); RAVDESS was the check.
"""

from __future__ import annotations

import numpy as np

from edge.features.frames import F32

#: Neighbouring hops on each side whose F0 sets a frame's reference.
CONTEXT_HOPS = 3

#: Score lost per octave between a candidate and the neighbours' median (Praat's octave-jump cost
#: is 0.35 per octave between consecutive frames).
JUMP_COST = 0.3


def neighbour_median(log_period: np.ndarray, k: int = CONTEXT_HOPS) -> np.ndarray:
    """Median of the finite values of ``log_period`` (n,) in each window ``[i - k, i + k]``
    (NaN outside the array and for unvoiced frames); NaN where the window has none."""
    n = log_period.shape[0]
    if n == 0:
        return log_period.copy()
    width = 2 * k + 1
    padded = np.full(n + 2 * k, np.nan, log_period.dtype)
    padded[k : k + n] = log_period
    win = np.sort(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)  # NaN last
    count = np.count_nonzero(np.isfinite(win), axis=1)
    lo = np.maximum(count - 1, 0) // 2
    hi = count // 2
    rows = np.arange(n)
    med = np.float32(0.5) * (win[rows, lo] + win[rows, hi])
    med[count == 0] = np.nan
    return med


def choose(
    best: np.ndarray,
    periods: np.ndarray,
    strengths: np.ndarray,
    voiced: np.ndarray,
    k: int = CONTEXT_HOPS,
) -> F32:
    """Period per frame (n,): ``best`` (n,) is each frame's strongest candidate, ``periods`` and
    ``strengths`` (n, C) its candidates (NaN / -inf where a frame has fewer), ``voiced`` (n,)
    bool. Unvoiced frames keep ``best``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        log_p = np.log2(periods)
        log_best = np.log2(best)
    ref = neighbour_median(np.where(voiced, log_best, np.float32(np.nan)), k)
    score = strengths - np.float32(JUMP_COST) * np.abs(log_p - ref[:, None])
    score[~np.isfinite(score)] = -np.inf
    pick = score.argmax(axis=1)
    out = periods[np.arange(periods.shape[0]), pick]
    keep = ~voiced | ~np.isfinite(out)
    return np.where(keep, best, out).astype(np.float32)
