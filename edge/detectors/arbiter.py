"""Turns drift transitions into shown cues: one cue at a time, priority, shared budget, policy.

* Only one cue is shown at a time. A drift that starts while another cue is shown is suppressed
  (``busy``) unless it has a higher priority, in which case it replaces the shown one.
* A shared budget allows at most ``max_cues_per_10min`` cue starts in any 600 s, and at least
  ``min_gap_s`` between the end of one cue and the start of the next of the same or a lower
  priority. A higher-priority drift may follow at once, as it could have replaced that cue
  while it was shown (a ``stress`` cue does not wait 20 s behind a ``flat`` one that just
  ended).
* A suppressed drift is not forgotten: while it is still on, it is shown (reason ``deferred``)
  as soon as nothing is shown and the budget allows, the highest priority first. A drift whose
  cue was shown once is never shown again before it ends (a timed-out cue does not come back).
* A cue is cleared when its drift ends, or after the detector's ``max_on_s``.
* What may be published is decided later, by :mod:`edge.policy`.
"""

from __future__ import annotations

import logging
from collections import deque

from edge.detectors.hysteresis import Transition
from edge.device.events import CueEvent, DriftEvent, Event, SuppressedEvent
from edge.settings import BudgetSettings, DetectorsSettings, PolicySettings

log = logging.getLogger(__name__)

BUDGET_WINDOW_S = 600.0


class Arbiter:
    """Decides which drifts become visible cues."""

    def __init__(
        self, detectors: DetectorsSettings, budget: BudgetSettings, policy: PolicySettings
    ) -> None:
        self.detectors = detectors
        self.budget = budget
        self.policy = policy
        self.showing: str | None = None
        """The cue currently shown, if any."""
        self._shown_since = 0.0
        self._last_end = -1e12
        self._last_priority = 0
        """Priority of the cue that ended at ``_last_end``."""
        self._starts: deque[float] = deque()
        self._pending: dict[str, float] = {}
        """Drifts still on whose cue was suppressed: name -> when the drift started."""

    def _cue(self, t: float, name: str, state: str, reason: str) -> CueEvent:
        return CueEvent(t, name, "on" if state == "on" else "off", reason)

    def _budget_reason(self, t: float, name: str) -> str | None:
        while self._starts and self._starts[0] <= t - BUDGET_WINDOW_S:
            self._starts.popleft()
        if len(self._starts) >= self.budget.max_cues_per_10min:
            return "budget"
        if (
            self.showing is None
            and t - self._last_end < self.budget.min_gap_s
            and self.detectors.get(name).priority <= self._last_priority
        ):
            return "gap"
        return None

    def _end(self, t: float, reason: str) -> CueEvent:
        assert self.showing is not None
        ev = self._cue(t, self.showing, "off", reason)
        self._last_priority = self.detectors.get(self.showing).priority
        self.showing = None
        self._last_end = t
        return ev

    def clear(self, t: float, reason: str) -> CueEvent | None:
        """End the shown cue now (end of stream; nothing suppressed is shown later); ``None``
        when nothing is shown."""
        self._pending.clear()
        return self._end(t, reason) if self.showing is not None else None

    def step(self, t: float, transitions: list[Transition]) -> list[Event]:
        """Handle this tick's transitions (any order) and the shown cue's timeout."""
        out: list[Event] = []
        if self.showing is not None:
            limit = self.detectors.get(self.showing).max_on_s
            if t - self._shown_since >= limit - 1e-9:
                out.append(self._end(t, "timeout"))
        prio = {tr.name: self.detectors.get(tr.name).priority for tr in transitions}
        ordered = sorted(transitions, key=lambda tr: (tr.state != "off", -prio[tr.name]))
        for tr in ordered:
            out.append(DriftEvent(tr.t, tr.name, "on" if tr.state == "on" else "off", tr.value))
            if tr.state == "off":
                self._pending.pop(tr.name, None)
                if self.showing == tr.name:
                    out.append(self._end(t, "ended"))
                continue
            if (
                self.showing is not None
                and prio[tr.name] <= self.detectors.get(self.showing).priority
            ):
                out.append(SuppressedEvent(t, tr.name, "busy"))
                self._pending[tr.name] = tr.t
                continue
            reason = self._budget_reason(t, tr.name)
            if reason is not None:
                out.append(SuppressedEvent(t, tr.name, reason))
                self._pending[tr.name] = tr.t
                continue
            out += self._show(t, tr.name, "drift")
        if self.showing is None and self._pending:
            name = max(self._pending, key=lambda n: self.detectors.get(n).priority)
            if self._budget_reason(t, name) is None:
                out += self._show(t, name, "deferred")  # _show takes it off the pending list
        return out

    def _show(self, t: float, name: str, reason: str) -> list[Event]:
        out: list[Event] = []
        if self.showing is not None:
            out.append(self._end(t, "preempted"))
        self._pending.pop(name, None)
        self.showing = name
        self._shown_since = t
        self._starts.append(t)
        out.append(self._cue(t, name, "on", reason))
        return out
