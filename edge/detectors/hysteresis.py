"""One drift state machine: enter/exit hysteresis, minimum duration, exit hold, refractory.

A detector turns its signal into a number per decision tick (0.1 s); :class:`Drift` decides when
that number means a drift has started or ended. A drift starts once the signal first passed
``enter``, has not fallen back past ``exit`` for the wait, was past ``enter`` in at least
``enter_share`` (by default half) of the wait's ticks (or of its last ``min_duration_s``: a brief
early crossing followed by seconds just under ``enter`` does not hold a later, sustained one
back) and is past it now. The wait is
``min_duration_s``, shortened for a strong signal when ``strong_min_share`` < 1: a signal whose
median over the last ``min_duration_s`` is ``k`` times ``enter`` (``1/k`` for detectors that fire
below) waits ``min_duration_s / k``, never less than ``strong_min_share`` of it; at least
``scored_share`` of the wait must be scored ticks (by default none: a pause inside the wait counts
as waiting). It ends once the signal stayed back past ``exit`` for ``exit_hold_s``. ``NaN`` means
"cannot tell now" (e.g. the agent is not speaking): it changes nothing, neither starting nor
ending a drift nor resetting the wait for the minimum duration.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from edge.settings import DetectorSettings


@dataclass(frozen=True)
class Transition:
    """A drift started (``on``) or ended (``off``)."""

    name: str
    """Detector name."""
    t: float
    """Seconds of audio."""
    state: str
    """``on`` or ``off``."""
    value: float
    """The signal value that caused it."""


class Drift:
    """Hysteresis state machine for detector ``name``; ``below`` flips the direction."""

    def __init__(self, name: str, settings: DetectorSettings, below: bool = False) -> None:
        self.name = name
        self.settings = settings
        self.below = below
        self.active = False
        """A drift is on."""
        self.on_since: float | None = None
        self._pending_since: float | None = None
        self._n_seen = 0
        self._n_past = 0
        self._recent: deque[tuple[float, float]] = deque()
        """(t, value) of the wait's ticks in the last ``min_duration_s``."""
        self._recent_past = 0
        """How many of :attr:`_recent` are past ``enter``."""
        self._exit_since: float | None = None
        self._quiet_until = -math.inf
        self._scored_s = 0.0
        """Seconds of the wait between two consecutive scored (non-NaN) ticks."""
        self._prev: tuple[float, bool] | None = None
        """(t, scored) of the previous tick, NaN or not."""

    def _past_enter(self, v: float) -> bool:
        return v <= self.settings.enter if self.below else v >= self.settings.enter

    def _back_to_normal(self, v: float) -> bool:
        return v > self.settings.exit if self.below else v < self.settings.exit

    def update(self, t: float, value: float) -> Transition | None:
        """Feed the signal at time ``t``; returns a transition when the state changes."""
        prev, self._prev = self._prev, (t, not math.isnan(value))
        if math.isnan(value):
            return None
        if self.active:
            if not self._back_to_normal(value):
                self._exit_since = None
                return None
            if self._exit_since is None:
                self._exit_since = t
            if t - self._exit_since >= self.settings.exit_hold_s - 1e-9:
                self.active = False
                self.on_since = None
                self._exit_since = None
                self._quiet_until = t + self.settings.refractory_s
                return Transition(self.name, t, "off", value)
            return None
        if t < self._quiet_until:
            self._pending_since = None
            return None
        past = self._past_enter(value)
        if self._pending_since is None:
            if not past:
                return None
            self._pending_since = t
            self._n_seen = self._n_past = 0
            self._scored_s = 0.0
            self._clear_recent()
        elif self._back_to_normal(value):  # fell back past exit: start over
            self._pending_since = None
            return None
        elif prev is not None and prev[1]:
            self._scored_s += t - prev[0]
        self._n_seen += 1
        self._n_past += past
        d = self.settings.min_duration_s
        self._recent.append((t, value))
        self._recent_past += past
        while self._recent[0][0] < t - d - 1e-9:
            self._recent_past -= self._past_enter(self._recent.popleft()[1])
        wait = self._wait_s()
        if (
            past
            and t - self._pending_since >= wait - 1e-9
            and self._scored_s >= self.settings.scored_share * wait - 1e-9
            and self._majority()
        ):
            self.active = True
            self.on_since = t
            self._pending_since = None
            return Transition(self.name, t, "on", value)
        return None

    def _majority(self) -> bool:
        """Past ``enter`` in at least ``enter_share`` of the wait's (non-NaN) ticks, or of its
        last ``min_duration_s``; dips into the hysteresis band count against it, a fall back
        past ``exit`` restarts the wait."""
        share = self.settings.enter_share
        return self._n_past >= share * self._n_seen or self._recent_past >= share * len(
            self._recent
        )

    def _clear_recent(self) -> None:
        self._recent.clear()
        self._recent_past = 0

    def _wait_s(self) -> float:
        """``min_duration_s``, shortened by the strength of the recent signal (see the module)."""
        st = self.settings
        if st.strong_min_share >= 1.0:
            return st.min_duration_s
        med = float(np.median([v for _, v in self._recent]))
        below_strength = st.enter / med if med > 0 else math.inf
        strength = below_strength if self.below else med / st.enter
        if not strength > 1.0:  # also NaN/inf-safe: weak or undefined -> the full wait
            return st.min_duration_s
        return st.min_duration_s * max(st.strong_min_share, 1.0 / strength)

    def reset(self) -> None:
        self.active = False
        self.on_since = None
        self._pending_since = None
        self._exit_since = None
        self._quiet_until = -math.inf
        self._prev = None
        self._clear_recent()
