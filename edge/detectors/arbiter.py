"""Turns drift transitions into shown cues: one cue at a time, priority, shared budget, policy.

* Only one cue is shown at a time. A drift that starts while another cue is shown is suppressed
  (``busy``) unless it has a higher priority, in which case it replaces the shown one.
* A shared budget allows at most ``max_cues_per_10min`` cue starts in any 600 s, and at least
  ``min_gap_s`` between the end of one cue and the start of the next.
* A cue is cleared when its drift ends, or after the detector's ``max_on_s``.
* Each cue event says whether policy allows publishing it (``stress`` never).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from edge.detectors.hysteresis import Transition
from edge.settings import BudgetSettings, DetectorsSettings, PolicySettings

log = logging.getLogger(__name__)

BUDGET_WINDOW_S = 600.0


@dataclass(frozen=True)
class Event:
    """Something the pipeline reports: a cue on/off, a drift, a suppression, baseline, metrics."""

    t: float
    """Seconds of audio since the stream started."""
    kind: str
    """``cue``, ``drift``, ``suppressed``, ``baseline``, ``metrics`` or ``model``."""
    cue: str | None = None
    """Detector name, where there is one."""
    state: str | None = None
    """``on``/``off`` for cues and drifts; a word for the other kinds."""
    detail: dict[str, Any] = field(default_factory=dict)
    """Extra fields (reason, value, metrics ...), merged into the JSON line."""

    def to_json(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 3),
            "kind": self.kind,
            "cue": self.cue,
            "state": self.state,
            **self.detail,
        }


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
        self._starts: deque[float] = deque()

    def _cue(self, t: float, name: str, state: str, reason: str) -> Event:
        return Event(
            t, "cue", name, state, {"reason": reason, "publish": name in self.policy.publish_cues}
        )

    def _budget_reason(self, t: float) -> str | None:
        while self._starts and self._starts[0] <= t - BUDGET_WINDOW_S:
            self._starts.popleft()
        if len(self._starts) >= self.budget.max_cues_per_10min:
            return "budget"
        if self.showing is None and t - self._last_end < self.budget.min_gap_s:
            return "gap"
        return None

    def _end(self, t: float, reason: str) -> Event:
        assert self.showing is not None
        ev = self._cue(t, self.showing, "off", reason)
        self.showing = None
        self._last_end = t
        return ev

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
            out.append(Event(tr.t, "drift", tr.name, tr.state, {"value": round(tr.value, 3)}))
            if tr.state == "off":
                if self.showing == tr.name:
                    out.append(self._end(t, "ended"))
                continue
            if (
                self.showing is not None
                and prio[tr.name] <= self.detectors.get(self.showing).priority
            ):
                out.append(Event(t, "suppressed", tr.name, "on", {"reason": "busy"}))
                continue
            reason = self._budget_reason(t)
            if reason is not None:
                out.append(Event(t, "suppressed", tr.name, "on", {"reason": reason}))
                continue
            if self.showing is not None:
                out.append(self._end(t, "preempted"))
            self.showing = tr.name
            self._shown_since = t
            self._starts.append(t)
            out.append(self._cue(t, tr.name, "on", "drift"))
        return out
