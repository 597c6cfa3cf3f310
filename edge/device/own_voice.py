"""Own-voice gate: a channel's speech counts as that side talking only near its own speech level.

A headset microphone also hears the room: in an open-plan contact centre the neighbouring agents
reach it 15-25 dB below the wearer's own voice, and the energy VAD of the front-end (level over a
tracked noise floor) takes their speech for the agent's, so turn-taking hears a neighbour talking
over every customer turn. The gate keeps a hop as talk (:attr:`~edge.detectors.tick.Lane.talk`,
what turn-taking uses: turns, overlap, dead air, calls) only when its level is within
``range_db`` of the side's own speech level: the ``REFERENCE_PERCENTILE`` of the levels of its
last ``window_s`` seconds of VAD speech (of all of it until there is that much; until
``MIN_SPEECH_S`` has been heard the gate passes everything). ``Lane.vad`` stays the front-end's:
the model windows, syllables, the speaking ticks of ``pace``, ``flat`` and ``stress``, the
baseline and the speech metrics still hear every hop of speech (gating those too dropped the
agent's own weaker syllables and delayed ``stress``: docs/voices.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from edge.detectors.tick import Lane

#: Percentile of the recent speech levels taken as the side's own speech level.
REFERENCE_PERCENTILE = 75.0
#: Speech heard before the gate starts (s).
MIN_SPEECH_S = 2.0
#: Resolution of the level histogram (dB) and its range (dBFS).
BIN_DB = 0.5
LOW_DB, HIGH_DB = -120.0, 6.0


class OwnVoiceGate:
    """One per channel; :meth:`gate` its lanes in stream order."""

    def __init__(self, range_db: float, window_s: float, hop_s: float) -> None:
        if range_db < 0 or window_s <= 0 or hop_s <= 0:
            raise ValueError("range_db must be >= 0, window_s and hop_s > 0")
        self.range_db = float(range_db)
        self.window_hops = max(1, round(window_s / hop_s))
        self.min_hops = min(self.window_hops, max(1, round(MIN_SPEECH_S / hop_s)))
        self._n_bins = round((HIGH_DB - LOW_DB) / BIN_DB) + 1
        self.reset()

    @property
    def enabled(self) -> bool:
        return self.range_db > 0

    def reset(self) -> None:
        """Forget the level (a new speaker, or a new mic)."""
        self._hist = np.zeros(self._n_bins, np.int64)
        self._ring = np.zeros(self.window_hops, np.int64)
        self._filled = 0
        self._pos = 0
        self._ref: float | None = None

    def reference_db(self) -> float | None:
        """The side's own speech level (dBFS), None until ``MIN_SPEECH_S`` of speech was heard."""
        if self._filled < self.min_hops:
            return None
        k = int(np.searchsorted(np.cumsum(self._hist), REFERENCE_PERCENTILE / 100 * self._filled))
        return LOW_DB + k * BIN_DB

    def gate(self, lane: Lane) -> Lane:
        """``lane`` with ``talk`` kept only on VAD hops near the side's own speech level."""
        if not self.enabled or not len(lane):
            return lane
        vad = lane.vad.copy()
        bins = self._bins(lane.level_dbfs)
        for i in np.flatnonzero(lane.vad):
            if self._ref is not None and lane.level_dbfs[i] < self._ref - self.range_db:
                vad[i] = False
            self._push(int(bins[i]))
        return dataclasses.replace(lane, talk=vad)

    def _bins(self, level: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        x = np.nan_to_num(level.astype(np.float64), nan=LOW_DB, neginf=LOW_DB, posinf=HIGH_DB)
        return np.clip(np.round((x - LOW_DB) / BIN_DB), 0, self._n_bins - 1).astype(np.int64)

    def _push(self, b: int) -> None:
        if self._filled == self.window_hops:
            self._hist[self._ring[self._pos]] -= 1
        else:
            self._filled += 1
        self._ring[self._pos] = b
        self._hist[b] += 1
        self._pos = (self._pos + 1) % self.window_hops
        if self._filled >= self.min_hops and (self._ref is None or self._pos % 10 == 0):
            self._ref = self.reference_db()  # the percentile moves slowly: every 10 speech hops
