"""Conversation dynamics from per-hop voice activity of the two sides of a call.

Definitions (also in ``docs/dynamics.md``); all times are multiples of the hop (10 ms):

* **Talk spurts.** Each side's raw VAD is smoothed: silent gaps shorter than ``bridge_gap_s``
  inside speech are filled, then spurts shorter than ``min_spurt_s`` are dropped.
* **Talk time** per side is the total length of its spurts; **overlap** is the time both sides
  are in a spurt; an **overlap segment** is a maximal stretch of it.
* **Interruption** (agent interrupts customer): an agent spurt starts while a customer spurt is
  under way (strictly after the customer started), and the customer's spurt ends first, at least
  ``interrupt_min_overlap_s`` and at most ``yield_within_s`` after the agent started, while the
  agent keeps talking (the customer yields the floor). If the agent stops first it was a
  backchannel / failed attempt; if the customer stops sooner it was just finishing its turn (an
  overlapping hand-over); both are overlap, not interruption.
  Customer-interrupts-agent is the mirror image and is counted separately.
* **Turns and monologues.** A side's turn joins its spurts across silent gaps shorter than
  ``monologue_gap_s``; a spurt of the other side alone (not overlapping) ends the turn, overlapping
  backchannels do not. A **monologue** is a turn at least ``monologue_min_s`` long.
* **Dead air**: both sides silent for at least ``dead_air_min_s``, between speech (silence before
  the first and after the last spurt of the call does not count).
* **Response latency**: from the end of a customer spurt to the start of the next agent spurt,
  counted only when the customer was the last one talking (the agent was already silent), nobody
  spoke in between, and the agent starts within ``response_max_s`` (0 for a direct hand-over).

:class:`DynamicsTracker` is streaming: feed VAD chunks of any size; results do not depend on the
chunking, and :func:`dynamics_from_vad` (whole call) is the tracker fed once and flushed. Each
side's decisions wait at most ``bridge_gap_s`` (or ``min_spurt_s``) for the audio that settles them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from edge.conversation.spurts import SpurtSmoother, runs

log = logging.getLogger(__name__)

B = npt.NDArray[np.bool_]

__all__ = [
    "DynamicsConfig",
    "DynamicsEvent",
    "DynamicsTracker",
    "SpurtSmoother",
    "dynamics_from_vad",
]
Side = Literal["agent", "customer"]
EventKind = Literal[
    "overlap_start", "overlap_end", "interruption", "monologue", "dead_air", "response_latency"
]

_NONE, _AGENT, _CUSTOMER, _BOTH = 0, 1, 2, 3


@dataclass(frozen=True)
class DynamicsConfig:
    """Thresholds of the conversation-dynamics definitions (see the module docstring)."""

    bridge_gap_s: float = 0.3
    """Silent gaps shorter than this inside a side's speech are filled (one spurt)."""
    min_spurt_s: float = 0.15
    """Spurts shorter than this (after bridging) are dropped as clicks or noise."""
    interrupt_min_overlap_s: float = 0.5
    """An interruption needs the interrupted side to go on at least this long after the other
    starts (shorter overlaps are turn-end hand-overs)."""
    yield_within_s: float = 2.0
    """An interruption needs the interrupted side to stop within this long after the other
    starts."""
    monologue_gap_s: float = 1.5
    """Spurts of one side separated by less silence than this (and no lone speech of the other
    side) form one turn (the pauses between a speaker's sentences stay inside the turn)."""
    monologue_min_s: float = 30.0
    """Turns at least this long are reported as monologues."""
    dead_air_min_s: float = 1.0
    """Both sides silent at least this long (between speech) is dead air."""
    response_max_s: float = 5.0
    """Customer-end to agent-start gaps longer than this are not counted as response latency."""

    def __post_init__(self) -> None:
        for name in (
            "bridge_gap_s",
            "min_spurt_s",
            "interrupt_min_overlap_s",
            "monologue_gap_s",
            "dead_air_min_s",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.yield_within_s <= 0 or self.monologue_min_s <= 0 or self.response_max_s < 0:
            raise ValueError("yield_within_s and monologue_min_s must be positive")


@dataclass(frozen=True)
class DynamicsEvent:
    """Something that happened in the conversation."""

    kind: EventKind
    """What happened."""
    t: float
    """Start time in seconds of audio (for response latency: when the agent started)."""
    duration_s: float = 0.0
    """Length: of the overlap, monologue, dead air, or the latency itself; 0 for point events."""
    side: Side | None = None
    """Who: the interrupter, or the monologue speaker; None for events of both sides."""


@dataclass
class _Run:
    state: int
    start: int
    end: int


@dataclass
class _Turn:
    start: int = -1
    end: int = -1
    lengths: list[int] = field(default_factory=list)


class DynamicsTracker:
    """Streaming conversation dynamics for one call (agent and customer VAD per hop)."""

    def __init__(self, hop_s: float = 0.01, config: DynamicsConfig | None = None) -> None:
        if hop_s <= 0:
            raise ValueError("hop_s must be positive")
        self.hop_s = float(hop_s)
        self.config = cfg = config or DynamicsConfig()
        self._smoothers = {
            side: SpurtSmoother(self._h(cfg.bridge_gap_s), self._h(cfg.min_spurt_s))
            for side in ("agent", "customer")
        }
        self._ready: dict[str, B] = {s: np.zeros(0, np.bool_) for s in ("agent", "customer")}
        self._n = 0  # joint hops consumed
        self._talk = {"agent": 0, "customer": 0}
        self._open: _Run | None = None
        self._done: list[_Run] = []  # the last completed runs (at most 2 kept)
        self._seen_speech = False
        self._turns = {"agent": _Turn(), "customer": _Turn()}
        self._spurts: dict[str, list[tuple[int, int]]] = {"agent": [], "customer": []}
        self._spurt_open: dict[str, int] = {"agent": -1, "customer": -1}
        self._events: list[DynamicsEvent] = []
        self._new: list[DynamicsEvent] = []
        self._flushed = False

    def _h(self, seconds: float) -> int:
        """Seconds to whole hops."""
        return round(seconds / self.hop_s)

    # ---- input -------------------------------------------------------------------------------

    def feed(self, agent_vad: npt.ArrayLike, customer_vad: npt.ArrayLike) -> list[DynamicsEvent]:
        """Add VAD hops for each side (any lengths); return the events decided by this call."""
        if self._flushed:
            raise ValueError("tracker was flushed; make a new one for a new call")
        for side, raw in (("agent", agent_vad), ("customer", customer_vad)):
            got = self._smoothers[side].feed(np.asarray(raw, np.bool_).reshape(-1))
            self._ready[side] = np.concatenate([self._ready[side], got])
        self._consume(final=False)
        return self._take_new()

    def flush(self) -> list[DynamicsEvent]:
        """End of the call: decide everything pending; return the events this decided."""
        if self._flushed:
            return []
        for side in ("agent", "customer"):
            self._ready[side] = np.concatenate([self._ready[side], self._smoothers[side].flush()])
        na, nc = self._ready["agent"].size, self._ready["customer"].size
        if na != nc:
            log.warning("VAD lengths differ by %d hops at the end; padding with silence", na - nc)
            m = max(na, nc)
            for side in ("agent", "customer"):
                r = self._ready[side]
                self._ready[side] = np.concatenate([r, np.zeros(m - r.size, np.bool_)])
        self._consume(final=True)
        self._flushed = True
        return self._take_new()

    # ---- run processing ----------------------------------------------------------------------

    def _consume(self, final: bool) -> None:
        k = min(self._ready["agent"].size, self._ready["customer"].size)
        a, c = self._ready["agent"][:k], self._ready["customer"][:k]
        self._ready = {"agent": self._ready["agent"][k:], "customer": self._ready["customer"][k:]}
        self._talk["agent"] += int(a.sum())
        self._talk["customer"] += int(c.sum())
        joint = a.astype(np.int8) + 2 * c.astype(np.int8)
        starts, ends = runs(joint)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            state, s0, e0 = int(joint[s]), s + self._n, e + self._n
            if self._open is not None and self._open.state == state:
                self._open.end = e0
                continue
            if self._open is not None:
                self._complete(self._open)
            self._open = _Run(state, s0, e0)
            self._on_open(self._open)
        self._n += k
        if final and self._open is not None:
            last = self._open
            self._open = None
            if last.state != _NONE:
                self._complete(last)
            for side in ("agent", "customer"):
                self._close_turn(side)
                self._end_spurt(side, last.end if last.state != _NONE else last.start)

    def _emit(self, ev: DynamicsEvent) -> None:
        self._events.append(ev)
        self._new.append(ev)

    def _take_new(self) -> list[DynamicsEvent]:
        out, self._new = self._new, []
        return out

    def _t(self, hops: int) -> float:
        return hops * self.hop_s

    @staticmethod
    def _speaks(state: int, side: str) -> bool:
        return bool(state & (_AGENT if side == "agent" else _CUSTOMER))

    def _on_open(self, run: _Run) -> None:
        cfg = self.config
        prev = self._done[-1] if self._done else None
        before = self._done[-2] if len(self._done) > 1 else None
        for side in ("agent", "customer"):
            if self._speaks(run.state, side) and self._spurt_open[side] < 0:
                self._spurt_open[side] = run.start
            elif not self._speaks(run.state, side):
                self._end_spurt(side, run.start)
        if run.state == _BOTH:
            self._emit(DynamicsEvent("overlap_start", self._t(run.start)))
        if (
            prev is not None
            and before is not None
            and prev.state == _BOTH
            and self._h(cfg.interrupt_min_overlap_s)
            <= prev.end - prev.start
            <= self._h(cfg.yield_within_s)
        ):
            if before.state == _CUSTOMER and run.state == _AGENT:
                self._emit(DynamicsEvent("interruption", self._t(prev.start), side="agent"))
            elif before.state == _AGENT and run.state == _CUSTOMER:
                self._emit(DynamicsEvent("interruption", self._t(prev.start), side="customer"))
        if run.state == _AGENT and prev is not None:
            if prev.state == _CUSTOMER:
                self._emit(DynamicsEvent("response_latency", self._t(run.start), 0.0))
            elif (
                prev.state == _NONE
                and before is not None
                and before.state == _CUSTOMER
                and prev.end - prev.start <= self._h(cfg.response_max_s)
            ):
                gap = self._t(prev.end - prev.start)
                self._emit(DynamicsEvent("response_latency", self._t(run.start), gap))
        for side, other in (("agent", "customer"), ("customer", "agent")):
            if self._speaks(run.state, other) and not self._speaks(run.state, side):
                self._close_turn(side)

    def _complete(self, run: _Run) -> None:
        cfg = self.config
        length = run.end - run.start
        if run.state == _BOTH:
            self._emit(DynamicsEvent("overlap_end", self._t(run.end), self._t(length)))
        if run.state == _NONE:
            if self._seen_speech and length >= self._h(cfg.dead_air_min_s):
                self._emit(DynamicsEvent("dead_air", self._t(run.start), self._t(length)))
            if length >= self._h(cfg.monologue_gap_s):
                self._close_turn("agent")
                self._close_turn("customer")
        else:
            self._seen_speech = True
            for side in ("agent", "customer"):
                if self._speaks(run.state, side):
                    turn = self._turns[side]
                    if turn.start < 0:
                        turn.start = run.start
                    turn.end = run.end
        self._done = [*self._done[-1:], run]

    def _close_turn(self, side: str) -> None:
        turn = self._turns[side]
        if turn.start < 0:
            return
        length = turn.end - turn.start
        turn.lengths.append(length)
        if length >= self._h(self.config.monologue_min_s):
            who: Side = "agent" if side == "agent" else "customer"
            self._emit(DynamicsEvent("monologue", self._t(turn.start), self._t(length), side=who))
        turn.start = turn.end = -1

    def _end_spurt(self, side: str, end: int) -> None:
        if self._spurt_open[side] >= 0:
            self._spurts[side].append((self._spurt_open[side], end))
            self._spurt_open[side] = -1

    # ---- output ------------------------------------------------------------------------------

    def talk_s(self, side: Side) -> float:
        """Seconds of talk spurts of ``side`` decided so far."""
        return self._t(self._talk[side])

    def current_turn_s(self, side: Side) -> float:
        """Length so far of ``side``'s turn in progress (0 when none): the same turn definition
        as the monologue events, read before the turn has ended (the device's monologue cue)."""
        turn = self._turns[side]
        start, end = turn.start, self._n
        run = self._open
        if run is not None:
            if run.state == _NONE:
                if run.end - run.start >= self._h(self.config.monologue_gap_s):
                    return 0.0
                end = run.start  # a pause inside the turn: the turn so far ends at the speech
            if self._speaks(run.state, side) and start < 0:
                start = run.start
        return 0.0 if start < 0 else self._t(end - start)

    @property
    def events(self) -> list[DynamicsEvent]:
        """All events so far, in the order they were decided."""
        return list(self._events)

    def spurts(self, side: Side) -> list[tuple[float, float]]:
        """Finished talk spurts of ``side`` as (start_s, end_s)."""
        return [(self._t(s), self._t(e)) for s, e in self._spurts[side]]

    def summary(self) -> dict[str, Any]:
        """Totals over what has been decided so far (JSON-ready: plain floats, ints and lists)."""
        ev = self._events
        overlaps = [e.duration_s for e in ev if e.kind == "overlap_end"]
        dead = [e.duration_s for e in ev if e.kind == "dead_air"]
        lat = [e.duration_s for e in ev if e.kind == "response_latency"]
        talk = {s: round(self._t(v), 3) for s, v in self._talk.items()}
        total_talk = talk["agent"] + talk["customer"]
        return {
            "duration_s": round(self._t(self._n), 3),
            "talk_s": talk,
            "agent_talk_share": round(talk["agent"] / total_talk, 4) if total_talk else None,
            "spurts": {s: len(v) for s, v in self._spurts.items()},
            "overlap_s": round(sum(overlaps), 3),
            "overlap_count": len(overlaps),
            "interruptions": {
                "agent_interrupts_customer": sum(
                    1 for e in ev if e.kind == "interruption" and e.side == "agent"
                ),
                "customer_interrupts_agent": sum(
                    1 for e in ev if e.kind == "interruption" and e.side == "customer"
                ),
            },
            "longest_turn_s": {
                s: round(self._t(max(t.lengths)), 3) if t.lengths else 0.0
                for s, t in self._turns.items()
            },
            "monologues_s": {
                s: [round(e.duration_s, 3) for e in ev if e.kind == "monologue" and e.side == s]
                for s in ("agent", "customer")
            },
            "dead_air": {
                "count": len(dead),
                "total_s": round(sum(dead), 3),
                "longest_s": round(max(dead), 3) if dead else 0.0,
                "lengths_s": [round(d, 3) for d in dead],
            },
            "response_latency": {
                "count": len(lat),
                "median_s": round(float(np.median(lat)), 3) if lat else None,
                "mean_s": round(float(np.mean(lat)), 3) if lat else None,
                "values_s": [round(v, 3) for v in lat],
            },
        }


def dynamics_from_vad(
    agent_vad: npt.ArrayLike,
    customer_vad: npt.ArrayLike,
    hop_s: float = 0.01,
    config: DynamicsConfig | None = None,
) -> DynamicsTracker:
    """Whole-call dynamics: a tracker fed everything at once and flushed (read ``.summary()``)."""
    tracker = DynamicsTracker(hop_s, config)
    tracker.feed(agent_vad, customer_vad)
    tracker.flush()
    return tracker
