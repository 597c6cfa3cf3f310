"""Metrics windows: a true aggregate over every tick of a window (not a snapshot).

:class:`WindowAggregator` is fed each decision tick (both sides' hops, the agent's relative
arousal and the customer's raw arousal, the conversation events decided in it) and the cue
starts; :meth:`close` returns a :class:`~edge.device.events.MetricsWindow` and starts the next.
Per side: speech seconds (VAD), syllables (the front-end's count), speech rate (syllables per
window second) and articulation rate (per speech second), F0 median and pitch SD (semitones) of
voiced speech hops, median speech level, mean arousal. Conversation: talk seconds per side (talk
spurts, ``docs/dynamics.md``), overlap and dead air (segments attributed to the window they end
in), interruptions each way, the longest turn that ended or was ongoing in the window.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import numpy.typing as npt

from edge.conversation.dynamics import DynamicsEvent
from edge.detectors.tick import Lane
from edge.device.events import ConversationMetrics, MetricsWindow, SideMetrics

NAN = math.nan


class _Side:
    def __init__(self) -> None:
        self.hops = 0
        self.speech_hops = 0
        self.syllables = 0.0
        self.f0: list[npt.NDArray[np.float32]] = []
        self.levels: list[npt.NDArray[np.float32]] = []
        self.arousal: list[float] = []

    def add(self, lane: Lane, arousal: list[float]) -> None:
        vad = lane.vad
        self.hops += len(lane)
        self.speech_hops += int(vad.sum())
        self.syllables += float(np.sum(lane.syllables[vad], dtype=np.float64))
        f0 = lane.f0_st[vad]
        self.f0.append(f0[np.isfinite(f0)])
        self.levels.append(lane.level_dbfs[vad])
        self.arousal.extend(a for a in arousal if math.isfinite(a))

    def metrics(self, hop_s: float) -> SideMetrics:
        speech_s = self.speech_hops * hop_s
        dur = self.hops * hop_s
        f0 = np.concatenate(self.f0) if self.f0 else np.zeros(0, np.float32)
        lv = np.concatenate(self.levels) if self.levels else np.zeros(0, np.float32)
        f0_med_st = float(np.median(f0)) if f0.size else NAN
        return SideMetrics(
            speech_s=speech_s,
            syllables=self.syllables,
            speech_rate_sps=self.syllables / dur if dur > 0 and speech_s > 0 else NAN,
            articulation_rate_sps=self.syllables / speech_s if speech_s > 0 else NAN,
            f0_median_hz=27.5 * 2.0 ** (f0_med_st / 12.0) if f0.size else NAN,
            pitch_sd_st=float(np.std(f0)) if f0.size >= 2 else NAN,
            level_median_db=float(np.median(lv)) if lv.size else NAN,
            arousal=float(np.mean(self.arousal)) if self.arousal else NAN,
        )


class WindowAggregator:
    """Accumulates one metrics window at a time."""

    def __init__(self, hop_s: float, t_start: float = 0.0, far_end: bool = True) -> None:
        self.hop_s = hop_s
        self.far_end = far_end
        self._reset(t_start)

    def _reset(self, t_start: float) -> None:
        self.t_start = t_start
        self.ticks = 0
        self._agent = _Side()
        self._customer = _Side()
        self._talk = {"agent": 0.0, "customer": 0.0}
        self._overlap = 0.0
        self._dead = 0.0
        self._interrupt = {"agent": 0, "customer": 0}
        self._longest = 0.0
        self._cues: Counter[str] = Counter()

    def add_tick(
        self,
        agent: Lane,
        customer: Lane,
        agent_arousal: list[float],
        customer_arousal: list[float],
    ) -> None:
        self.ticks += 1
        self._agent.add(agent, agent_arousal)
        if self.far_end:
            self._customer.add(customer, customer_arousal)

    def add_talk(self, agent_s: float, customer_s: float) -> None:
        self._talk["agent"] += agent_s
        self._talk["customer"] += customer_s

    def add_dynamics(self, events: list[DynamicsEvent]) -> None:
        for ev in events:
            if ev.kind == "overlap_end":
                self._overlap += ev.duration_s
            elif ev.kind == "dead_air":
                self._dead += ev.duration_s
            elif ev.kind == "interruption" and ev.side is not None:
                self._interrupt[ev.side] += 1
            elif ev.kind == "monologue":
                self._longest = max(self._longest, ev.duration_s)

    def add_turn(self, length_s: float) -> None:
        """An ongoing or finished turn length seen in this window."""
        self._longest = max(self._longest, length_s)

    def add_cue(self, name: str) -> None:
        self._cues[name] += 1

    def close(
        self,
        t: float,
        baseline_state: str,
        baseline_speech_s: float,
        baseline_rate_sps: float,
        baseline_pitch_spread_st: float,
    ) -> MetricsWindow:
        """The window from :attr:`t_start` to ``t``; the next one starts at ``t``."""
        w = MetricsWindow(
            t=t,
            t_start=self.t_start,
            agent_side=self._agent.metrics(self.hop_s),
            customer_side=self._customer.metrics(self.hop_s) if self.far_end else None,
            conversation=ConversationMetrics(
                agent_talk_s=self._talk["agent"],
                customer_talk_s=self._talk["customer"],
                overlap_s=self._overlap,
                dead_air_s=self._dead,
                interruptions_by_agent=self._interrupt["agent"],
                interruptions_by_customer=self._interrupt["customer"],
                longest_monologue_s=self._longest,
            ),
            cues=dict(self._cues),
            baseline_state=baseline_state,  # type: ignore[arg-type]
            baseline_speech_s=baseline_speech_s,
            baseline_rate_sps=baseline_rate_sps,
            baseline_pitch_spread_st=baseline_pitch_spread_st,
        )
        self._reset(t)
        return w
