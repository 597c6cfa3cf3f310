"""Turn-taking signals from the two VAD streams: overtalk, monologue, dead_air.

* ``overtalk``: share of the last ``window_s`` (1 s) of hops in which both sides had speech.
* ``monologue``: length of the agent's current turn in seconds. A turn starts when the agent
  speaks while the customer does not; it ends when the customer speaks for at least
  ``customer_takeover_s`` (shorter backchannels such as "mhm" do not end it) or the agent is
  silent for ``turn_gap_s``.
* ``dead_air``: seconds since either side last spoke; only while a call is in progress (both
  sides spoke within ``call_memory_s``), otherwise 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.detectors.tick import Tick
from edge.settings import DeadAirSettings, MonologueSettings


class OvertalkSignal:
    """Overlap share over a trailing window of hops."""

    def __init__(self, window_hops: int = 100) -> None:
        self._both: npt.NDArray[np.bool_] = np.zeros(0, np.bool_)
        self.window_hops = window_hops

    def update(self, tick: Tick) -> float:
        both = tick.agent.vad & tick.customer.vad
        self._both = np.concatenate([self._both, both])[-self.window_hops :]
        if self._both.size < self.window_hops:
            return float(self._both.sum() / self.window_hops)
        return float(self._both.mean())


class MonologueSignal:
    """Length of the agent's current turn."""

    def __init__(self, settings: MonologueSettings) -> None:
        self.settings = settings
        self._turn_start: float | None = None
        self._agent_silence = 0.0
        self._customer_run = 0.0

    def update(self, tick: Tick) -> float:
        start = tick.t - tick.duration_s
        if tick.customer_speaking:
            self._customer_run += tick.duration_s
            if self._customer_run >= self.settings.customer_takeover_s:
                self._turn_start = None
        else:
            self._customer_run = 0.0
        if tick.agent_speaking:
            self._agent_silence = 0.0
            if self._turn_start is None and not tick.customer_speaking:
                self._turn_start = start
        else:
            self._agent_silence += tick.duration_s
            if self._agent_silence >= self.settings.turn_gap_s:
                self._turn_start = None
        return 0.0 if self._turn_start is None else tick.t - self._turn_start


class DeadAirSignal:
    """Seconds of mutual silence inside a call."""

    def __init__(self, settings: DeadAirSettings) -> None:
        self.settings = settings
        self._agent_last = -np.inf
        self._customer_last = -np.inf

    def update(self, tick: Tick) -> float:
        if tick.agent.vad.any():
            self._agent_last = tick.t
        if tick.customer.vad.any():
            self._customer_last = tick.t
        last_any = max(self._agent_last, self._customer_last)
        first_of_pair = min(self._agent_last, self._customer_last)
        if tick.t - first_of_pair > self.settings.call_memory_s:
            return 0.0
        return float(tick.t - last_any)
