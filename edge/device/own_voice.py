"""Own-voice gate: a channel's speech counts as that side talking only near its own speech level.

A headset microphone also hears the room: in an open-plan contact centre the neighbouring agents
reach it 15-25 dB below the wearer's own voice, and the energy VAD of the front-end (level over a
tracked noise floor) takes their speech for the agent's, so turn-taking hears a neighbour talking
over every customer turn. The gate keeps a VAD hop as talk (:attr:`~edge.detectors.tick.Lane.talk`,
what turn-taking uses: turns, overlap, dead air, calls) when the loudest VAD hop of the last
``peak_s`` (the hop itself included) is within ``range_db`` of the side's own speech level.

* **Peak, not hop.** Judged hop by hop, a talker's own weak hops (syllable valleys, soft
  consonants) fall out as well as the room, about a third of them, which halves the overlap of
  real overtalk (both sides lose hops). The loudest hop of the last 0.3 s is near the talker's
  own level throughout their speech, and stays well under it for a room whose summed voices
  are 15 dB lower.
* **Own level.** The ``REFERENCE_PERCENTILE`` of the hop levels of the side's last ``window_s``
  seconds of *talk*, so a stretch where only the room is heard does not pull the level down to
  the room's. Until ``MIN_SPEECH_S`` of talk has been heard every VAD hop is talk, except what
  the side hears while the other side talks: in a room, before the wearer has spoken, that is
  the neighbours through the customer's first turn, which would read as overtalk and set the
  level to the room's. It is held back (neither talk nor learnt) for at most ``HOLD_MAX_S`` of
  such speech, so a far end that never falls silent (a noisy line) cannot keep the side mute.
  Only the agent's headset mic hears a room: the far end's gate holds nothing back
  (``hold_s=0``), so a customer's first words over the agent are overtalk at once.
  A room heard first into silence is outgrown as soon as the louder wearer speaks: their hops
  raise the percentile.
* **Relearn.** When this side's rejected speech has gone on for ``relearn_s`` seconds into the
  other side's silence (no hop kept, no pause longer than ``RELEARN_GAP_S``, the other side
  silent throughout), the level is learnt again from scratch: the gain fell, or the mic moved
  away, and the side must not stay mute (its speech into the other side's silence would read as
  dead air after 10 s). Speech heard while the other side talks does not count: that is what the
  room sounds like through a customer's turn, however long. The span is in time, not in VAD
  hops: a quiet talker's speech is only partly VAD speech.

``Lane.vad`` stays the front-end's: the model windows, syllables and the speech metrics still
hear every hop of speech. A tick with no hop of talk is not the side speaking
(:attr:`~edge.detectors.tick.Tick.agent_speaking`): the prosody cues and the baseline skip it,
so the room alone neither scores nor calibrates the agent. (An earlier, hop-by-hop gate that
also removed the agent's weaker hops *inside* speaking ticks delayed ``stress``:
docs/voices.md.)
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.detectors.tick import Lane
from edge.features.strided import windows

if TYPE_CHECKING:
    from edge.settings import AudioSettings

#: Percentile of the recent talk levels taken as the side's own speech level.
REFERENCE_PERCENTILE = 75.0
#: Talk heard before the gate starts (s).
MIN_SPEECH_S = 2.0
#: Resolution of the level histogram (dB) and its range (dBFS).
BIN_DB = 0.5
LOW_DB, HIGH_DB = -120.0, 6.0
#: Talk hops between updates of the reference (the percentile moves slowly).
UPDATE_EVERY = 10
#: A pause longer than this (s) between rejected VAD hops starts the relearning span over (quiet
#: speech after a gain drop is VAD speech in short bursts with pauses of 2-3 s between them).
RELEARN_GAP_S = 3.0
#: Before the level is known, at most this much (s) of the agent's speech heard while the
#: customer talks is held back.
HOLD_MAX_S = 20.0


class OwnVoiceGate:
    """One per channel; :meth:`gate` its lanes in stream order."""

    def __init__(
        self,
        range_db: float,
        window_s: float,
        hop_s: float,
        peak_s: float = 0.3,
        relearn_s: float = 5.0,
        hold_s: float = HOLD_MAX_S,
    ) -> None:
        if min(range_db, peak_s, hold_s) < 0 or min(window_s, hop_s, relearn_s) <= 0:
            raise ValueError(
                "range_db, peak_s and hold_s must be >= 0; window_s, hop_s and relearn_s > 0"
            )
        self.range_db = float(range_db)
        self.window_hops = max(1, round(window_s / hop_s))
        self.min_hops = min(self.window_hops, max(1, round(MIN_SPEECH_S / hop_s)))
        self.peak_hops = max(1, round(peak_s / hop_s))
        self.relearn_hops = max(1, round(relearn_s / hop_s))
        self.gap_hops = max(1, round(RELEARN_GAP_S / hop_s))
        self.hold_hops = round(hold_s / hop_s)
        self._pos_stream = 0
        """Stream index of the first hop of the next lane."""
        self._other_last = -(1 << 40)
        """Stream index of the other side's latest hop of speech (long ago: never)."""
        self._n_bins = round((HIGH_DB - LOW_DB) / BIN_DB) + 1
        self.reset()

    @classmethod
    def from_settings(
        cls, audio: AudioSettings, hop_s: float, hold_s: float = HOLD_MAX_S
    ) -> OwnVoiceGate:
        """The gate ``audio.own_voice_range_db`` and ``audio.own_voice_window_s`` describe."""
        return cls(audio.own_voice_range_db, audio.own_voice_window_s, hop_s, hold_s=hold_s)

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
        self._held = 0
        """VAD hops held back while the level is unknown and the other side talked."""
        self._miss_start: int | None = None
        """Stream index of the first rejected VAD hop of the current relearning span."""
        self._miss_last = 0
        """Stream index of the span's latest rejected VAD hop."""
        self._recent = np.full(self.peak_hops - 1, -np.inf)
        """Levels of the hops before this lane (VAD hops only, others -inf), for the peak."""

    def reference_db(self) -> float | None:
        """The side's own speech level (dBFS), None until ``MIN_SPEECH_S`` of talk was heard."""
        if self._filled < self.min_hops:
            return None
        k = int(np.searchsorted(np.cumsum(self._hist), REFERENCE_PERCENTILE / 100 * self._filled))
        return LOW_DB + k * BIN_DB

    def gate(self, lane: Lane, other_vad: npt.NDArray[np.bool_] | None = None) -> Lane:
        """``lane`` with ``talk`` kept only on VAD hops whose recent peak is near the side's own
        speech level; ``other_vad``: whether the other side talks on the same hops (None:
        silent). :class:`CallGates` pairs the agent's and the customer's gates."""
        if not self.enabled or not len(lane):
            return lane
        if other_vad is not None and len(other_vad) != len(lane):
            raise ValueError(f"other_vad has {len(other_vad)} hops for a lane of {len(lane)}")
        level = np.nan_to_num(lane.level_dbfs.astype(np.float64), nan=np.inf)
        masked = np.where(lane.vad, level, -np.inf)  # no level (NaN): counted loud, kept
        seq = np.concatenate([self._recent, masked])
        peak = windows(seq, self.peak_hops).max(axis=1)
        self._recent = seq[len(seq) - (self.peak_hops - 1) :] if self.peak_hops > 1 else seq[:0]
        talk = lane.vad.copy()
        bins = self._bins(lane.level_dbfs)
        idx = np.arange(len(lane))
        other = np.zeros(len(lane), np.bool_) if other_vad is None else np.asarray(other_vad)
        base = self._pos_stream
        # stream index of the other side's latest hop of speech, at or before each hop
        other_last = np.maximum.accumulate(np.where(other, base + idx, self._other_last))
        for i in np.flatnonzero(lane.vad):
            if self._ref is None and other[i] and self._held < self.hold_hops:
                talk[i] = False  # level unknown, the other side talks: most likely the room
                self._held += 1
                continue
            if self._ref is not None and peak[i] < self._ref - self.range_db:
                talk[i] = False
                self._rejected(base + int(i), int(other_last[i]))
                continue
            self._miss_start = None
            if np.isfinite(level[i]):
                self._push(int(bins[i]))
        self._other_last = int(other_last[-1])
        self._pos_stream = base + len(lane)
        return dataclasses.replace(lane, talk=talk)

    def _rejected(self, pos: int, other_last: int) -> None:
        """A rejected VAD hop at stream index ``pos``; ``other_last``: the other side's latest
        hop of speech so far. Extends, restarts or ends the relearning span; relearns at its end."""
        if other_last == pos:  # the other side talks: the room through their turn
            self._miss_start = None
            return
        if (
            self._miss_start is None
            or other_last > self._miss_last  # the other side spoke since
            or pos - self._miss_last > self.gap_hops
        ):
            self._miss_start = pos
        self._miss_last = pos
        if pos - self._miss_start >= self.relearn_hops:
            recent = self._recent  # reset() leaves the stream positions alone
            self.reset()  # this side's level is no longer the one learnt: learn it anew
            self._recent = recent

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
        if self._filled >= self.min_hops and (self._ref is None or self._pos % UPDATE_EVERY == 0):
            self._ref = self.reference_db()


class CallGates:
    """The two gates of a call, agent and customer, in the one order both the device and
    ``poise analyze`` use: the agent is gated against the customer's VAD, then the customer
    against the agent's *talk* (the room in the agent's mic is not the agent talking). Only the
    agent's headset mic hears a room, so only the agent's gate holds speech back
    (``HOLD_MAX_S``); the customer's holds nothing."""

    def __init__(self, audio: AudioSettings, hop_s: float) -> None:
        self.agent = OwnVoiceGate.from_settings(audio, hop_s)
        self.customer = OwnVoiceGate.from_settings(audio, hop_s, hold_s=0.0)

    def gate(self, agent: Lane, customer: Lane) -> tuple[Lane, Lane]:
        """Both lanes (the same hops) with ``talk`` decided."""
        a = self.agent.gate(agent, customer.vad)
        return a, self.customer.gate(customer, a.talk)
