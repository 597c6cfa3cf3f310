"""What every detector sees per decision tick: both channels' hops and any new arousal scores."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from edge.features.frames import FrameBatch

#: A channel counts as speaking in a tick when at least this share of its hops has VAD speech
#: (and one of them is its own voice, :attr:`Lane.talk`).
SPEAKING_FRACTION = 0.5


@dataclass(frozen=True)
class Lane:
    """The per-hop columns of one channel that detectors use (views, cheap to slice)."""

    t: npt.NDArray[np.float64]
    """Hop times (s)."""
    vad: npt.NDArray[np.bool_]
    """Voice activity."""
    f0_st: npt.NDArray[np.float32]
    """F0 in semitones, NaN unvoiced."""
    articulation_rate_sps: npt.NDArray[np.float32]
    """Syllables per second of speech over the trailing window."""
    level_dbfs: npt.NDArray[np.float32]
    """Level in dBFS."""
    syllables: npt.NDArray[np.float32]
    """Syllables per hop (the front-end's count)."""
    talk: npt.NDArray[np.bool_]
    """Who is talking: ``vad`` kept to the side's own voice by
    :class:`edge.device.own_voice.OwnVoiceGate` (``vad`` itself until gated). Turn-taking
    (turns, overlap, dead air, calls) reads it hop by hop; a tick without any is not the side
    speaking (:attr:`Tick.agent_speaking`)."""

    @classmethod
    def of(cls, batch: FrameBatch) -> Lane:
        return cls(
            batch.t,
            batch.vad,
            batch.f0_st,
            batch.articulation_rate_sps,
            batch.level_dbfs,
            batch.syllables,
            batch.vad,
        )

    def slice(self, start: int, stop: int) -> Lane:
        return Lane(
            self.t[start:stop],
            self.vad[start:stop],
            self.f0_st[start:stop],
            self.articulation_rate_sps[start:stop],
            self.level_dbfs[start:stop],
            self.syllables[start:stop],
            self.talk[start:stop],
        )

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def own_speech(self) -> npt.NDArray[np.bool_]:
        """The side's own speech in these hops: the front-end's VAD (every hop of it, weak
        syllables too) when any hop is talk, none when only the room was heard."""
        return self.vad if self.talk.any() else np.zeros(len(self), np.bool_)


@dataclass(frozen=True)
class Tick:
    """Aligned hops of both channels for one decision tick (normally 10 hops = 0.1 s)."""

    t: float
    """Time of the tick's last hop (seconds of audio)."""
    duration_s: float
    """Length of the tick in seconds."""
    agent: Lane
    """Agent channel hops."""
    customer: Lane
    """Customer channel hops."""
    agent_arousal: npt.NDArray[np.float32]
    """Arousal logits of agent windows that completed in this tick (usually none or one)."""
    customer_arousal: npt.NDArray[np.float32]
    """Same for the customer channel."""

    @cached_property
    def agent_speaking(self) -> bool:
        a = self.agent
        return bool(len(a) and a.own_speech().mean() >= SPEAKING_FRACTION)

    @cached_property
    def customer_speaking(self) -> bool:
        c = self.customer
        return bool(len(c) and c.own_speech().mean() >= SPEAKING_FRACTION)
