"""What every detector sees per decision tick: both channels' hops and any new arousal scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.features.frames import FrameBatch

#: A channel counts as speaking in a tick when at least this share of its hops has VAD speech.
SPEAKING_FRACTION = 0.5


@dataclass(frozen=True)
class Tick:
    """Aligned hops of both channels for one decision tick (normally 10 hops = 0.1 s)."""

    t: float
    """Time of the tick's last hop (seconds of audio)."""
    duration_s: float
    """Length of the tick in seconds."""
    agent: FrameBatch
    """Agent channel hops."""
    customer: FrameBatch
    """Customer channel hops."""
    agent_arousal: npt.NDArray[np.float32]
    """Arousal logits of agent windows that completed in this tick (usually none or one)."""
    customer_arousal: npt.NDArray[np.float32]
    """Same for the customer channel."""

    @property
    def agent_speaking(self) -> bool:
        return bool(len(self.agent) and self.agent.vad.mean() >= SPEAKING_FRACTION)

    @property
    def customer_speaking(self) -> bool:
        return bool(len(self.customer) and self.customer.vad.mean() >= SPEAKING_FRACTION)
