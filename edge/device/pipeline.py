"""The I/O-free device loop: ``Pipeline.step(block) -> events``.

Per block: both channels go through their own feature front-end; hops that became final on both
channels are cut into decision ticks of ``TICK_HOPS`` hops (0.1 s). Per tick the conversation
dynamics and the call tracker advance (one definition of talk, turns and calls, shared with
``poise analyze``), every running detector computes its signal, its
:class:`~edge.detectors.hysteresis.Drift` decides on/off, the
:class:`~edge.detectors.arbiter.Arbiter` turns drifts into (few) shown cues, the agent's speech
feeds the baseline (frozen while a pace/flat/stress drift is active), and the tick is added to
the current metrics window, which is closed every ``metrics_window_s`` and at call start and
end. Every event carries the call id (or ``None``) and the signed-in agent (or ``None``). Time
is seconds of audio, never the wall clock, so a WAV file replayed at any speed gives the same
events. Without a far end (``far_end=False``, a mono recording) blocks may have one channel and
the detectors that need the customer (``FAR_END_DETECTORS``) are off.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from edge.conversation.calls import CallChange, CallTracker, random_call_id
from edge.conversation.dynamics import DynamicsTracker
from edge.detectors.arbiter import Arbiter
from edge.detectors.conversation import DeadAirSignal, MonologueSignal, OvertalkSignal
from edge.detectors.empathy import EmpathySignal
from edge.detectors.hysteresis import Drift, Transition
from edge.detectors.prosody import PitchSpread, ProsodySignals
from edge.detectors.tick import Lane, Tick
from edge.device.agents import AgentChange, AgentSession
from edge.device.arousal import ArousalModel, SpeakerAdaptive
from edge.device.baseline import METRICS, AgentBaseline
from edge.device.channel import Channel, FrontEndLike, default_frontend
from edge.device.events import BaselineEvent, CallEvent, CueEvent, Event, MetricsWindow
from edge.device.own_voice import CallGates
from edge.device.window import WindowAggregator
from edge.errors import InputError
from edge.features.config import FeatureConfig
from edge.protocols import AudioBlock
from edge.settings import DETECTOR_NAMES, DeviceSettings

log = logging.getLogger(__name__)

#: Hops per decision tick (10 x 10 ms).
TICK_HOPS = 10
#: Detectors whose drift freezes the baseline.
AGENT_DRIFTS = ("pace", "flat", "stress")
#: Detectors that need the arousal model.
MODEL_DETECTORS = ("stress", "empathy")
#: Detectors that need the far end (customer channel).
FAR_END_DETECTORS = ("overtalk", "dead_air", "empathy")


class Pipeline:
    """Two front-ends, optional arousal model, baseline, detectors, arbitration, calls and
    metrics windows."""

    def __init__(
        self,
        settings: DeviceSettings | None = None,
        baseline: AgentBaseline | None = None,
        model_factory: Callable[[], ArousalModel] | None = None,
        frontend_factory: Callable[[FeatureConfig], FrontEndLike] | None = None,
        far_end: bool = True,
        new_call_id: Callable[[], str] = random_call_id,
        agents: AgentSession | None = None,
    ) -> None:
        settings = settings if settings is not None else DeviceSettings()
        self.settings = settings
        self.agents = agents
        """Per-agent baselines (sign-in, voice at call start); None: one baseline for the desk."""
        if baseline is None:
            baseline = agents.current.baseline if agents is not None else None
        self.baseline = baseline if baseline is not None else AgentBaseline(settings.baseline)
        self.far_end = far_end
        fc = settings.features
        self.hop_s = fc.hop_s
        if frontend_factory is None:
            batch_hops = max(1, round(settings.audio.analysis_batch_s / fc.hop_s))
            frontend_factory = functools.partial(
                default_frontend,
                min_batch_hops=batch_hops,
                learned_syllables=self.settings.audio.learned_syllables,
            )
        self.metrics_window_s = settings.metrics_window_s
        policy = settings.policy
        self.running = tuple(n for n in DETECTOR_NAMES if policy.runs(n))
        if model_factory is None:
            off = [n for n in MODEL_DETECTORS if n in self.running]
            if off:
                log.info("no arousal model: %s disabled", " and ".join(off))
            self.running = tuple(n for n in self.running if n not in MODEL_DETECTORS)
        if not far_end:
            off = [n for n in FAR_END_DETECTORS if n in self.running]
            if off:
                log.info("no far end: %s disabled", ", ".join(off))
            self.running = tuple(n for n in self.running if n not in FAR_END_DETECTORS)
        wants_model = [n in self.running for n in ("stress", "empathy")]
        self._channels = [
            Channel(
                frontend_factory(fc),
                model_factory() if model_factory is not None and wants else None,
                fc.n_mels,
            )
            for wants in wants_model
        ]
        self._own_voice = CallGates(settings.audio, self.hop_s)
        d = settings.detectors
        self.drifts = {n: Drift(n, d.get(n), below=(n == "flat")) for n in self.running}
        self.arbiter = Arbiter(d, settings.budget, policy)
        self.dynamics = DynamicsTracker(self.hop_s, settings.dynamics)
        self.calls = CallTracker(settings.calls, far_end=far_end, new_id=new_call_id)
        self.window = WindowAggregator(self.hop_s, 0.0, far_end=far_end)
        self.agent: str | None = (
            agents.agent_id if agents is not None and agents.signed_in else None
        )
        """The signed-in agent (pseudonymous id), or ``None``."""
        self._prosody = ProsodySignals(self.baseline, settings.baseline, d)
        self._overtalk = OvertalkSignal()
        self._monologue = MonologueSignal(self.dynamics)
        self._dead_air = DeadAirSignal(self.calls)
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
        self._talk_seen = {"agent": 0.0, "customer": 0.0}
        self.agent_speech_s = 0.0
        self.ticks = 0
        self._last_t = 0.0
        if agents is not None:
            self._model_state(0, agents.current.input_norm)
            agents.start_call()  # the first speech heard decides too, not only later calls

    # -- feeding ---------------------------------------------------------------------------

    def step(self, block: AudioBlock) -> list[Event]:
        """Process one block (column 0 agent, column 1 customer: the source maps the device's
        channels; one column without a far end); return the events it caused, in time order."""
        if block.sample_rate != self.settings.features.sample_rate:
            raise InputError(
                f"audio at {block.sample_rate} Hz, the front-end runs at "
                f"{self.settings.features.sample_rate} Hz (the source must resample)"
            )
        want = 2 if self.far_end else 1
        if block.channels != want and not (not self.far_end and block.channels == 2):
            raise InputError(
                f"the pipeline needs {want} channel(s) (agent{', customer' if want == 2 else ''}),"
                f" the block has {block.channels}"
            )
        agent = np.ascontiguousarray(block.samples[:, 0])
        customer = (
            np.ascontiguousarray(block.samples[:, 1]) if self.far_end else np.zeros_like(agent)
        )
        for ch, x in zip(self._channels, (agent, customer), strict=True):
            ch.add(ch.fe.process(x))
        return self._drain(final=False)

    def flush(self) -> list[Event]:
        """End of stream: process the front-ends' last hops and any partial tick, end the call
        in progress and close the last metrics window."""
        for ch in self._channels:
            ch.add(ch.fe.flush())
        events = self._drain(final=True)
        t = self._last_t
        cleared = self.arbiter.clear(t, "flush")
        if cleared is not None:
            events.append(self._stamp(cleared))
        change = self.calls.end(t)
        if change is not None:
            events.extend(self._call_change(change, t))
        elif self.window.ticks:
            events.append(self._close_window(t, self.calls.call))
        return events

    def set_agent(self, agent: str | None) -> list[Event]:
        """A sign-in (or sign-out, ``None``): later events carry this agent; with per-agent
        baselines the outgoing agent is saved and the named one resumed (a new id calibrates from
        nothing; after a sign-out the next call's voice decides)."""
        self.agent = agent
        if self.agents is not None:
            change = self.agents.set_agent(agent, self._model_state(0))
            return [self._stamp(self._use_agent(change))]
        return [self._stamp(BaselineEvent(self._last_t, "agent", speech_s=self.baseline.speech_s))]

    def save_agent(self) -> None:
        """Persist the current agent's baseline and input statistics (per-agent mode only)."""
        if self.agents is not None:
            self.agents.save(self._model_state(0))

    def _model_state(self, ch: int, state: Any = False) -> Any:
        """Get (``state`` omitted) or set a channel's per-speaker model input statistics."""
        model = self._channels[ch].model
        if not isinstance(model, SpeakerAdaptive):
            return None
        if state is False:
            return model.speaker_state()
        model.set_speaker_state(state)
        return None

    def _use_agent(self, change: AgentChange) -> BaselineEvent:
        assert self.agents is not None
        rec = self.agents.current
        self.baseline = rec.baseline
        self._prosody.baseline = rec.baseline
        self._prosody.spread = PitchSpread()  # the last agent's pitch is not this one's
        self._own_voice.agent.reset()  # nor their speech level
        self._model_state(0, rec.input_norm)
        log.info("agent baseline: %s", change.detail())
        state = "agent" if change.resumed else "reset"
        return BaselineEvent(self._last_t, state, self.references(), self.baseline.speech_s)

    def _stamp(self, ev: Event) -> Event:
        stamped: Event = ev.stamped(self.calls.call, self.agent)
        return stamped

    def _drain(self, final: bool) -> list[Event]:
        agent, customer = self._channels
        events: list[Event] = []
        n = min(len(agent.pending), len(customer.pending))
        usable = n if final else n - n % TICK_HOPS
        if usable <= 0:
            return events
        agent_hops = agent.take(usable)
        if self.agents is not None and self.agents.probing:
            change = self.agents.observe(agent_hops, self.hop_s, self._model_state(0))
            if change is not None and change.reason != "same_voice":
                events.append(self._stamp(self._use_agent(change)))
        a, c = Lane.of(agent_hops), Lane.of(customer.take(usable))
        a, c = self._own_voice.gate(a, c)
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
        self._last_t = tick.t
        events: list[Event] = []
        self.window.add_dynamics(self.dynamics.feed(tick.agent.talk, tick.customer.talk))
        self._add_talk()
        change = self.calls.update(
            tick.t, bool(tick.agent.talk.any()), bool(tick.customer.talk.any())
        )
        if change is not None:
            events.extend(self._call_change(change, tick.t - tick.duration_s))
            if change.state == "start":
                self._empathy.reset()
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
        for ev in self.arbiter.step(tick.t, transitions):
            if isinstance(ev, CueEvent) and ev.state == "on":
                self.window.add_cue(ev.cue)
            events.append(self._stamp(ev))
        events.extend(self._stamp(e) for e in self._feed_baseline(tick))
        stress = self.last_values.get("stress", math.nan)
        self.window.add_tick(
            tick.agent,
            tick.customer,
            [stress] if "stress" in self.running else [],
            [float(x) for x in tick.customer_arousal] if "empathy" in self.running else [],
        )
        self.window.add_turn(
            max(self.dynamics.current_turn_s("agent"), self.dynamics.current_turn_s("customer"))
        )
        if tick.t - self.window.t_start >= self.metrics_window_s - 1e-9:
            events.append(self._close_window(tick.t, self.calls.call))
        return events

    def _add_talk(self) -> None:
        now = {"agent": self.dynamics.talk_s("agent"), "customer": self.dynamics.talk_s("customer")}
        self.window.add_talk(
            now["agent"] - self._talk_seen["agent"], now["customer"] - self._talk_seen["customer"]
        )
        self._talk_seen = now

    def _call_change(self, change: CallChange, t: float) -> list[Event]:
        """Close the window at the boundary so each window belongs to one call or none."""
        out: list[Event] = []
        if change.state == "start":
            self._model_state(1, None)  # a new far-end voice: its input statistics start over
            if self.agents is not None:
                self.agents.start_call()
            if self.window.ticks:
                out.append(self._close_window(t, None))  # the window before the call: no call's
            out.append(self._stamp(CallEvent(change.t, "start")))
        else:  # the tracker has ended the call; the closing window and the end event are its
            if self.window.ticks:
                out.append(self._close_window(t, change.call))
            end: Event = CallEvent(change.t, "end", change.duration_s).stamped(
                change.call, self.agent
            )
            out.append(end)
        return out

    def _close_window(self, t: float, call: str | None) -> MetricsWindow:
        """Close the metrics window at ``t`` as a window of ``call`` (or of no call)."""
        b = self.baseline
        state = "calibrating" if not b.ready else ("frozen" if b.frozen else "following")
        rate = b.reference("articulation_rate_sps")
        spread = b.reference("pitch_spread_st")
        w = self.window.close(
            t,
            state,
            b.speech_s,
            rate.median if rate is not None else math.nan,
            spread.median if spread is not None else math.nan,
        )
        stamped: MetricsWindow = w.stamped(call, self.agent)
        return stamped

    def _feed_baseline(self, tick: Tick) -> list[Event]:
        out: list[Event] = []
        freeze = self.settings.baseline.freeze_while_drift and any(
            self.drifts[n].active for n in AGENT_DRIFTS if n in self.drifts
        )
        self.baseline.frozen = freeze
        if freeze != self._frozen_reported:
            self._frozen_reported = freeze
            out.append(BaselineEvent(tick.t, "frozen" if freeze else "following"))
        vad = tick.agent.own_speech()  # a tick of the room alone is not the agent's speech
        speech_s = float(vad.sum()) * self.hop_s
        self.agent_speech_s += speech_s
        if speech_s > 0 and self.baseline.observe(
            speech_s,
            {
                "articulation_rate_sps": tick.agent.articulation_rate_sps[vad],
                "pitch_spread_st": [self._prosody.spread.value],
                "pitch_level_st": [self._prosody.spread.level],
                "arousal": tick.agent_arousal,
            },
        ):
            out.append(
                BaselineEvent(tick.t, "calibrated", self.references(), self.baseline.speech_s)
            )
        return out

    def references(self) -> dict[str, Any]:
        """The baseline's references per metric (``None`` while unknown), for the local log."""
        refs: dict[str, Any] = {}
        for m in METRICS:
            r = self.baseline.reference(m)
            refs[m] = (
                None if r is None else {"median": round(r.median, 3), "spread": round(r.spread, 3)}
            )
        return refs
