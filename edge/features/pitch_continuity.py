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
    """Median of the finite values of ``log_period`` (n,) float32 in each window ``[i - k, i + k]``
    (NaN outside the array and for unvoiced frames); NaN where the window has none."""
    n = log_period.shape[0]
    width = 2 * k + 1
    padded = np.full(n + 2 * k, np.nan, np.float32)
    padded[k : k + n] = log_period
    # Row i is padded[i : i + width] (a strided view; np.sort copies it and puts NaN last).
    step = padded.strides[0]
    win = np.sort(np.ndarray((n, width), np.float32, padded, 0, (step, step)), axis=1)
    count = width - np.count_nonzero(win != win, axis=1)
    base = np.arange(0, n * width, width)
    flat = win.reshape(-1)
    lo = flat.take(base + np.maximum(count - 1, 0) // 2)
    med = np.float32(0.5) * (lo + flat.take(base + count // 2))
    med[count == 0] = np.nan
    return med


def choose(
    periods: np.ndarray, strengths: np.ndarray, voiced: np.ndarray, k: int = CONTEXT_HOPS
) -> F32:
    """Period per frame (n,) from its candidates' ``periods`` and ``strengths`` (n, C) float32,
    strongest first (NaN / -inf where a frame has fewer); ``voiced`` (n,) bool. Unvoiced frames
    keep their strongest candidate."""
    best = periods[:, 0]
    if not voiced.any():
        return best.copy()
    log_p = np.log2(periods)  # periods are positive or NaN: no warnings
    ref = neighbour_median(np.where(voiced, log_p[:, 0], np.float32(np.nan)), k)
    score = np.abs(log_p - ref[:, None])
    score *= np.float32(-JUMP_COST)
    score += strengths
    np.putmask(score, score != score, np.float32(-np.inf))  # NaN: no such candidate
    n, c = periods.shape
    out = periods.reshape(-1).take(np.arange(0, n * c, c) + score.argmax(axis=1))
    np.putmask(out, ~voiced | (out != out), best)
    return out
