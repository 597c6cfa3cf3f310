"""Streaming syllable-nucleus detection after De Jong & Wempe (2009), adapted to 10 ms hops.

The intensity of a hop is the Hann-weighted mean power of ``INTENSITY_WINDOW_S`` centred on it
(:meth:`NucleusDetector.intensity`): a 25 ms rectangular window holds a non-integer number of
pitch periods and its level wobbles by 1-2 dB at low F0 (a steady 95 Hz tone became a train of
"syllables"); 40 ms Hann keeps that under 0.6 dB down to 60 Hz, as Praat's intensity does.

A hop is a nucleus when its smoothed intensity (mean power over ``SMOOTH_S`` centred on it) is the
strict maximum of the surrounding ``±PEAK_RADIUS_S`` (first hop of a plateau), the hop is voiced and
in speech, it is within ``PEAK_BELOW_MAX_DB`` of the running maximum over the trailing
``MAX_WINDOW_S``, and the intensity fell at least ``MIN_DIP_DB`` below the peak at some point
since the previous nucleus. That needs a fixed look-ahead of :attr:`NucleusDetector.lookahead`
hops: a hop is decided only once that many later hops are known (or the stream has ended).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.features.strided import windows

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

# The three constants below were chosen on EmoDB dev speakers 03 and 08 only (as
# ``bench/emodb_syllables.py`` splits) against the corpus' syllable marks: De Jong's 2 dB dip with
# 50 ms smoothing undercounts fast emotional speech by ~2 syllables per 2 s file. Held-out
# speakers: count r 0.75, mean absolute error 13.8 % (see the bench and docs/features.md).

#: Window of the intensity smoothing, centred (seconds); 0: the 25 ms frame level itself.
SMOOTH_S = 0.0
#: A nucleus is the largest smoothed intensity within this distance either side (seconds).
PEAK_RADIUS_S = 0.03
#: Intensity must have dipped at least this far below a peak since the last nucleus (dB).
MIN_DIP_DB = 1.5
#: A nucleus must be within this many dB of the highest intensity over the trailing
#: ``MAX_WINDOW_S`` (De Jong & Wempe threshold relative to the utterance; streaming: running max).
#: Faint voiced sound shortly after loud speech (echo, sidetone, the other party leaking into the
#: headset mic) is not counted. 25 dB chosen a priori; on dev speakers it left MAE unchanged.
PEAK_BELOW_MAX_DB = 25.0
#: Trailing window of that running maximum (seconds).
MAX_WINDOW_S = 5.0
#: Length of the Hann window of the intensity contour (seconds).
INTENSITY_WINDOW_S = 0.04
#: Power standing in for "nothing" (before the start and after the end of the stream).
_SILENCE = 1e-12


class NucleusDetector:
    """One per channel. :meth:`push` hop features in stream order; it returns the decisions for the
    oldest not-yet-decided hops (fewer than pushed while the look-ahead fills)."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self._half_smooth = max(0, round(SMOOTH_S / config.hop_s / 2))
        self._radius = max(1, round(PEAK_RADIUS_S / config.hop_s))
        self.lookahead = self._half_smooth + self._radius
        """Hops after a hop that must be known before it is decided."""
        self._max_window = max(1, round(MAX_WINDOW_S / config.hop_s))
        self.frame_length = max(1, round(INTENSITY_WINDOW_S * config.sample_rate))
        """Samples of the intensity window, centred on the hop centre."""
        window = np.hanning(self.frame_length + 2)[1:-1]  # no zero end points
        self._window = window / np.sqrt(np.mean(window * window))
        self.reset()

    def intensity(self, frames: npt.NDArray[np.float32]) -> F64:
        """Hann-weighted mean power of each row (shape (n, frame_length)); a steady signal reads
        its plain mean square."""
        weighted = frames * self._window
        power = np.einsum("ij,ij->i", weighted, weighted) / self.frame_length
        return np.asarray(np.maximum(power, _SILENCE), np.float64)

    def reset(self) -> None:
        ctx = self._half_smooth + self._radius
        # Buffers start with the context before the stream: silence, unvoiced.
        self._power: F64 = np.full(ctx, _SILENCE)
        self._eligible: B = np.zeros(ctx, np.bool_)
        self._left = ctx
        """Buffer rows before the first undecided hop (kept only as context)."""
        self._run_min = np.inf
        """Lowest smoothed intensity (dB) since the last nucleus, over decided hops."""
        self._recent: F64 = np.full(self._max_window, -np.inf)
        """Smoothed intensity (dB) of the last decided hops, for the running maximum."""
        self._ended = False

    def push(self, intensity: F64, voiced: B, vad: B) -> B:
        """Add hops (their :meth:`intensity`, voicing and VAD); return nucleus flags for the hops
        that became decided, oldest first."""
        if self._ended:
            raise RuntimeError("push after finish without reset")
        self._power = np.concatenate([self._power, np.asarray(intensity, np.float64)])
        self._eligible = np.concatenate([self._eligible, np.asarray(voiced & vad, np.bool_)])
        return self._decide(len(self._power) - self.lookahead)

    def finish(self) -> B:
        """End of stream: decide all remaining hops (silence after the end) and stop."""
        n_pending = len(self._power) - self._left
        pad = self.lookahead
        self._power = np.concatenate([self._power, np.full(pad, _SILENCE)])
        self._eligible = np.concatenate([self._eligible, np.zeros(pad, np.bool_)])
        out = self._decide(self._left + n_pending)
        self._ended = True
        return out

    def _decide(self, stop: int) -> B:
        """Decide buffer rows ``[self._left, stop)``."""
        start = self._left
        if stop <= start:
            return np.zeros(0, np.bool_)
        h, r = self._half_smooth, self._radius
        # Smoothed intensity for rows [start - r, stop + r).
        seg = self._power[start - r - h : stop + r + h]
        env = 10.0 * np.log10(windows(seg, 2 * h + 1).mean(axis=1) if h else seg)
        centre = env[r : len(env) - r]
        around = windows(env, 2 * r + 1)
        left_max = around[:, :r].max(axis=1)
        right_max = around[:, r + 1 :].max(axis=1)
        recent = np.concatenate([self._recent, centre])
        running_max = windows(recent, self._max_window + 1).max(axis=1)
        self._recent = recent[len(recent) - self._max_window :]
        peak = (
            (centre > left_max)
            & (centre >= right_max)
            & self._eligible[start:stop]
            & (centre >= running_max - PEAK_BELOW_MAX_DB)
        )
        out = np.zeros(stop - start, np.bool_)
        pos = 0
        for c in np.flatnonzero(peak).tolist():
            if c > pos:
                self._run_min = min(self._run_min, float(centre[pos:c].min()))
            if centre[c] - self._run_min >= MIN_DIP_DB:
                out[c] = True
                self._run_min = np.inf
                pos = c + 1
            else:
                pos = c
        if pos < len(centre):
            self._run_min = min(self._run_min, float(centre[pos:].min()))
        # Keep only the context the next call needs.
        keep_from = stop - (h + r)
        self._power = self._power[keep_from:]
        self._eligible = self._eligible[keep_from:]
        self._left = stop - keep_from
        return out
