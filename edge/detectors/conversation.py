"""Turn-taking signals from the two VAD streams (kept to each side's own voice,
:attr:`edge.detectors.tick.Lane.talk`): overtalk, monologue, dead_air.

* ``overtalk``: share of the last ``window_s`` (1 s) of hops in which both sides had speech.
* ``monologue``: length of the agent's current turn in seconds, with the one turn definition
  of ``docs/dynamics.md`` (spurts joined across gaps shorter than ``monologue_gap_s``; a lone
  customer spurt ends the turn, overlapping backchannels do not).
* ``dead_air``: seconds since either side last spoke, only while a call is in progress (as
  :mod:`edge.conversation.calls` decides), otherwise 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.conversation.calls import CallTracker
from edge.conversation.dynamics import DynamicsTracker
from edge.detectors.tick import Tick


class OvertalkSignal:
    """Overlap share over a trailing window of hops."""

    def __init__(self, window_hops: int = 100) -> None:
        self._both: npt.NDArray[np.bool_] = np.zeros(0, np.bool_)
        self.window_hops = window_hops

    def update(self, tick: Tick) -> float:
        both = tick.agent.talk & tick.customer.talk
        self._both = np.concatenate([self._both, both])[-self.window_hops :]
        if self._both.size < self.window_hops:
            return float(self._both.sum() / self.window_hops)
        return float(self._both.mean())


class MonologueSignal:
    """Length of the agent's current turn, as the conversation dynamics define a turn
    (:meth:`edge.conversation.dynamics.DynamicsTracker.current_turn_s`)."""

    def __init__(self, tracker: DynamicsTracker) -> None:
        self.tracker = tracker

    def update(self, tick: Tick) -> float:
        return self.tracker.current_turn_s("agent")


class DeadAirSignal:
    """Seconds of mutual silence inside a call (:class:`edge.conversation.calls.CallTracker`
    decides where calls are; between calls the idle headset is never dead air)."""

    def __init__(self, calls: CallTracker) -> None:
        self.calls = calls
        self._last_speech = -np.inf

    def update(self, tick: Tick) -> float:
        if tick.agent.talk.any() or tick.customer.talk.any():
            self._last_speech = tick.t
        if not self.calls.in_call:
            return 0.0
        return float(tick.t - self._last_speech)
