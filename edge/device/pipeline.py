"""The I/O-free device loop: ``Pipeline.step(block) -> events``.

Per block: both channels go through their own feature front-end; hops that became final on both
channels are cut into decision ticks of ``TICK_HOPS`` hops (0.1 s). Per tick every running
detector computes its signal, its :class:`~edge.detectors.hysteresis.Drift` decides on/off, the
:class:`~edge.detectors.arbiter.Arbiter` turns drifts into (few) shown cues, and the agent's
speech feeds the baseline (frozen while a pace/flat/stress drift is active). Time is seconds of
audio, never the wall clock, so a WAV file replayed at any speed gives the same events.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.detectors.arbiter import Arbiter, Event
from edge.detectors.conversation import DeadAirSignal, MonologueSignal, OvertalkSignal
from edge.detectors.empathy import EmpathySignal
from edge.detectors.hysteresis import Drift, Transition
from edge.detectors.prosody import ProsodySignals
from edge.detectors.tick import Lane, Tick
from edge.device.arousal import ArousalModel, empty_scores
from edge.device.baseline import METRICS, AgentBaseline
from edge.errors import InputError
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.protocols import AudioBlock
from edge.settings import DETECTOR_NAMES, DeviceSettings

log = logging.getLogger(__name__)

#: Hops per decision tick (10 x 10 ms).
TICK_HOPS = 10
#: Detectors whose drift freezes the baseline.
AGENT_DRIFTS = ("pace", "flat", "stress")
#: Detectors that need the arousal model.
MODEL_DETECTORS = ("stress", "empathy")


class FrontEndLike(Protocol):
    """What the pipeline needs of :class:`edge.features.frontend.FrontEnd`."""

    def process(self, samples: npt.NDArray[Any]) -> FrameBatch: ...

    def flush(self) -> FrameBatch: ...


def default_frontend(
    config: FeatureConfig, min_batch_hops: int = 1, learned_syllables: bool = False
) -> FrontEndLike:
    from edge.features.frontend import FrontEnd

    fe: FrontEndLike = FrontEnd(
        config, min_batch_hops=min_batch_hops, learned_syllables=learned_syllables
    )
    return fe


class _Channel:
    """One side: front-end, optional model, and hops/scores not yet consumed by a tick."""

    def __init__(self, fe: FrontEndLike, model: ArousalModel | None, n_mels: int) -> None:
        self.fe = fe
        self.model = model
        self.pending = FrameBatch.empty(n_mels)
        self.score_t: npt.NDArray[np.float64] = np.zeros(0, np.float64)
        self.score_v: npt.NDArray[np.float32] = np.zeros(0, np.float32)

    def add(self, batch: FrameBatch) -> None:
        if not len(batch):
            return
        self.pending = FrameBatch.concat([self.pending, batch]) if len(self.pending) else batch
        t, v = self.model.push(batch) if self.model is not None else empty_scores()
        if t.size:
            self.score_t = np.concatenate([self.score_t, t])
            self.score_v = np.concatenate([self.score_v, v])

    def take(self, n: int) -> FrameBatch:
        out = self.pending.slice(0, n)
        self.pending = self.pending.slice(n, len(self.pending))
        return out

    def scores_until(self, t: float) -> npt.NDArray[np.float32]:
        k = int(np.searchsorted(self.score_t, t + 1e-9, side="right"))
        out = self.score_v[:k]
        self.score_t, self.score_v = self.score_t[k:], self.score_v[k:]
        return out


class Pipeline:
    """Two front-ends, optional arousal model, baseline, detectors and arbitration."""

    def __init__(
        self,
        settings: DeviceSettings | None = None,
        baseline: AgentBaseline | None = None,
        model_factory: Callable[[], ArousalModel] | None = None,
        frontend_factory: Callable[[FeatureConfig], FrontEndLike] | None = None,
        metrics_every_s: float = 10.0,
    ) -> None:
        settings = settings if settings is not None else DeviceSettings()
        self.settings = settings
        self.baseline = baseline if baseline is not None else AgentBaseline(settings.baseline)
        fc = settings.features
        self.hop_s = fc.hop_s
        if frontend_factory is None:
            batch_hops = max(1, round(settings.audio.analysis_batch_s / fc.hop_s))
            frontend_factory = functools.partial(
                default_frontend,
                min_batch_hops=batch_hops,
                learned_syllables=self.settings.audio.learned_syllables,
            )
        self.metrics_every_s = metrics_every_s
        self._channels = [
            _Channel(
                frontend_factory(fc),
                model_factory() if model_factory is not None else None,
                fc.n_mels,
            )
            for _ in range(2)
        ]
        policy = settings.policy
        self.running = tuple(n for n in DETECTOR_NAMES if policy.runs(n))
        if model_factory is None:
            off = [n for n in MODEL_DETECTORS if n in self.running]
            if off:
                log.info("no arousal model: %s disabled", " and ".join(off))
            self.running = tuple(n for n in self.running if n not in MODEL_DETECTORS)
        d = settings.detectors
        self.drifts = {n: Drift(n, d.get(n), below=(n == "flat")) for n in self.running}
        self.arbiter = Arbiter(d, settings.budget, policy)
        self._prosody = ProsodySignals(self.baseline, settings.baseline, d)
        self._overtalk = OvertalkSignal()
        self._monologue = MonologueSignal(d.monologue)
        self._dead_air = DeadAirSignal(d.dead_air)
        self._empathy = EmpathySignal(d.empathy)
        self._signals: dict[str, Callable[[Tick], float]] = {
            "pace": self._prosody.pace,
            "flat": self._prosody.flat,
            "stress": self._prosody.stress,
            "overtalk": self._overtalk.update,
            "monologue": self._monologue.update,
            "dead_air": self._dead_air.update,
            "empathy": self._empathy.update,
        }
        self.last_values: dict[str, float] = dict.fromkeys(self.running, math.nan)
        self._frozen_reported = False
        self._next_metrics = metrics_every_s
        self.agent_speech_s = 0.0
        self.ticks = 0

    # -- feeding ---------------------------------------------------------------------------

    def step(self, block: AudioBlock) -> list[Event]:
        """Process one block (column 0 agent, column 1 customer: the source maps the device's
        channels); return the events it caused, in time order."""
        if block.sample_rate != self.settings.features.sample_rate:
            raise InputError(
                f"audio at {block.sample_rate} Hz, the front-end runs at "
                f"{self.settings.features.sample_rate} Hz (the source must resample)"
            )
        if block.channels != 2:
            raise InputError(
                f"the pipeline needs 2 channels (agent, customer), the block has {block.channels}"
            )
        for ch, idx in zip(self._channels, (0, 1), strict=True):
            ch.add(ch.fe.process(np.ascontiguousarray(block.samples[:, idx])))
        return self._drain(final=False)

    def flush(self) -> list[Event]:
        """End of stream: process the front-ends' last hops and any partial tick."""
        for ch in self._channels:
            ch.add(ch.fe.flush())
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[Event]:
        agent, customer = self._channels
        events: list[Event] = []
        n = min(len(agent.pending), len(customer.pending))
        usable = n if final else n - n % TICK_HOPS
        if usable <= 0:
            return events
        a = Lane.of(agent.take(usable))
        c = Lane.of(customer.take(usable))
        for start in range(0, usable, TICK_HOPS):
            stop = min(start + TICK_HOPS, usable)
            t = float(a.t[stop - 1])
            tick = Tick(
                t,
                (stop - start) * self.hop_s,
                a.slice(start, stop),
                c.slice(start, stop),
                agent.scores_until(t),
                customer.scores_until(t),
            )
            events.extend(self._tick(tick))
        return events

    # -- one decision tick ------------------------------------------------------------------

    def _tick(self, tick: Tick) -> list[Event]:
        self.ticks += 1
        self._prosody.observe(tick)
        if "empathy" in self.drifts:
            self._empathy.frozen = self.drifts["empathy"].active
        transitions: list[Transition] = []
        for name in self.running:
            v = self._signals[name](tick)
            self.last_values[name] = v
            tr = self.drifts[name].update(tick.t, v)
            if tr is not None:
                transitions.append(tr)
        events = self.arbiter.step(tick.t, transitions)
        events.extend(self._feed_baseline(tick))
        if tick.t >= self._next_metrics:
            self._next_metrics = tick.t + self.metrics_every_s
            events.append(self._metrics_event(tick.t))
        return events

    def _feed_baseline(self, tick: Tick) -> list[Event]:
        out: list[Event] = []
        freeze = self.settings.baseline.freeze_while_drift and any(
            self.drifts[n].active for n in AGENT_DRIFTS if n in self.drifts
        )
        self.baseline.frozen = freeze
        if freeze != self._frozen_reported:
            self._frozen_reported = freeze
            out.append(Event(tick.t, "baseline", None, "frozen" if freeze else "following"))
        vad = tick.agent.vad
        speech_s = float(vad.sum()) * self.hop_s
        self.agent_speech_s += speech_s
        if speech_s > 0 and self.baseline.observe(
            speech_s,
            {
                "articulation_rate_sps": tick.agent.articulation_rate_sps[vad],
                "pitch_spread_st": [self._prosody.spread.value],
                "arousal": tick.agent_arousal,
            },
        ):
            out.append(Event(tick.t, "baseline", None, "calibrated", self._baseline_detail()))
        return out

    def _baseline_detail(self) -> dict[str, Any]:
        refs: dict[str, Any] = {}
        for m in METRICS:
            r = self.baseline.reference(m)
            refs[m] = (
                None if r is None else {"median": round(r.median, 3), "spread": round(r.spread, 3)}
            )
        return {"speech_s": round(self.baseline.speech_s, 1), "references": refs}

    def _metrics_event(self, t: float) -> Event:
        signals = {n: (None if math.isnan(v) else round(v, 3)) for n, v in self.last_values.items()}
        return Event(
            t,
            "metrics",
            None,
            "calibrating" if not self.baseline.ready else "ready",
            {
                "signals": signals,
                "active": [n for n, d in self.drifts.items() if d.active],
                "showing": self.arbiter.showing,
                "agent_speech_s": round(self.agent_speech_s, 1),
                "baseline": self._baseline_detail(),
            },
        )
