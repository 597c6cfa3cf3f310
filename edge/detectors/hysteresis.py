"""One drift state machine: enter/exit hysteresis, minimum duration, exit hold, refractory.

A detector turns its signal into a number per decision tick (0.1 s); :class:`Drift` decides when
that number means a drift has started or ended. A drift starts once the signal first passed
``enter``, has not fallen back past ``exit`` for ``min_duration_s``, was past ``enter`` in at least
half of those ticks and is past it now. It ends once the signal stayed back past ``exit`` for
``exit_hold_s``. ``NaN`` means "cannot tell now" (e.g. the agent is
not speaking): it changes nothing, neither starting nor ending a drift nor resetting the wait for
the minimum duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.settings import DetectorSettings

#: While waiting out ``min_duration_s``, at least this share of the (non-NaN) ticks must be past
#: ``enter``; dips into the hysteresis band are tolerated, a fall back past ``exit`` restarts.
PENDING_MAJORITY = 0.5


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
        self._exit_since: float | None = None
        self._quiet_until = -math.inf

    def _past_enter(self, v: float) -> bool:
        return v <= self.settings.enter if self.below else v >= self.settings.enter

    def _back_to_normal(self, v: float) -> bool:
        return v > self.settings.exit if self.below else v < self.settings.exit

    def update(self, t: float, value: float) -> Transition | None:
        """Feed the signal at time ``t``; returns a transition when the state changes."""
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
        elif self._back_to_normal(value):  # fell back past exit: start over
            self._pending_since = None
            return None
        self._n_seen += 1
        self._n_past += past
        if (
            past
            and t - self._pending_since >= self.settings.min_duration_s - 1e-9
            and self._n_past >= PENDING_MAJORITY * self._n_seen
        ):
            self.active = True
            self.on_since = t
            self._pending_since = None
            return Transition(self.name, t, "on", value)
        return None

    def reset(self) -> None:
        self.active = False
        self.on_since = None
        self._pending_since = None
        self._exit_since = None
        self._quiet_until = -math.inf
