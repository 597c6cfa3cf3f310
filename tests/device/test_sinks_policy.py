"""Event sinks (bounded, supervised), the cue sink, the outbound policy filter, calls, windows."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge.conversation.calls import CallSettings, CallTracker
from edge.conversation.dynamics import DynamicsTracker
from edge.device.cue_sink import CueSink
from edge.device.events import (
    BaselineEvent,
    CallEvent,
    ConversationMetrics,
    CueEvent,
    DriftEvent,
    MetricsWindow,
    SideMetrics,
)
from edge.device.sinks import RecordingSink, SupervisedSink
from edge.errors import ConfigError
from edge.policy import OutboundFilter
from edge.settings import CueStylesSettings, load_settings
from edge.telemetry import schemas
from edge.telemetry.envelope import envelope


class BlockingSink:
    name = "slow"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.got: list[object] = []

    def handle(self, event: object) -> None:
        self.release.wait(10)
        self.got.append(event)

    def close(self) -> None:
        pass


class FailingSink:
    name = "broken"

    def handle(self, event: object) -> None:
        raise OSError("device gone")

    def close(self) -> None:
        raise OSError("still gone")


def test_a_stalled_sink_never_blocks_the_caller_and_counts_drops() -> None:
    inner = BlockingSink()
    sink = SupervisedSink(inner, maxsize=5)
    for i in range(50):  # returns at once although the sink is stuck
        sink.handle(CueEvent(float(i), "pace", "on", "drift"))
    assert sink.stats.dropped >= 44  # one taken by the worker, five queued
    inner.release.set()
    assert sink.join(10)
    assert len(inner.got) == 50 - sink.stats.dropped
    sink.close()


def test_a_failing_sink_is_counted_never_raised() -> None:
    sink = SupervisedSink(FailingSink())
    for i in range(3):
        sink.handle(CueEvent(float(i), "pace", "on", "drift"))
    assert sink.join(10)
    assert sink.stats.errors == 3
    sink.close()  # a failing close is logged, not raised


class RecordingCue:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def show(self, cue: str, style: object) -> None:
        self.calls.append(("show", cue))

    def clear(self) -> None:
        self.calls.append(("clear",))

    def tick(self, now: float) -> None:
        self.calls.append(("tick",))

    def close(self) -> None:
        self.calls.append(("close",))


def test_cue_sink_shows_clears_and_ticks_in_order_off_the_caller() -> None:
    out = RecordingCue()
    sink = SupervisedSink(CueSink(out, CueStylesSettings()))
    sink.handle(CueEvent(1.0, "pace", "on", "drift"))
    sink.tick(1.0)
    sink.handle(DriftEvent(1.5, "pace", "off", 0.9))
    sink.handle(CueEvent(2.0, "pace", "off", "ended"))
    assert sink.join(10)
    sink.close()
    assert out.calls == [("show", "pace"), ("tick",), ("clear",), ("clear",), ("close",)]


def _side(arousal: float = 1.5) -> SideMetrics:
    return SideMetrics(10.0, 40.0, 4.0, 5.0, 120.0, 2.0, -30.0, arousal)


def _window(cues: dict[str, int]) -> MetricsWindow:
    return MetricsWindow(
        t=20.0,
        t_start=10.0,
        agent_side=_side(),
        customer_side=_side(3.0),
        conversation=ConversationMetrics(6.0, 3.0, 0.5, 1.0, 1, 0, 12.0),
        cues=cues,
        baseline_state="following",
        baseline_speech_s=200.0,
        baseline_rate_sps=4.8,
        baseline_pitch_spread_st=float("nan"),
        call="ab" * 16,
        agent=None,
    )


def _payload(kind: str, body: dict) -> dict:
    return envelope(kind, "site", "desk-1", 1, 0, 0.0, body)


def test_default_profile_publishes_arousal_and_conversation_cues_never_stress() -> None:
    f = OutboundFilter(load_settings(None, []).policy)
    kind, body = f.outbound(_window({"stress": 1, "overtalk": 2})) or ("", {})
    assert kind == "metrics" and body["agent_side"]["arousal"] == 1.5
    assert body["cues"] == {"overtalk": 2}
    schemas.validate("metrics", _payload("metrics", body))
    assert f.outbound(CueEvent(1.0, "stress", "on", "drift")) is None
    assert f.outbound(DriftEvent(1.0, "overtalk", "on", 0.9)) is None  # drifts stay local
    assert f.outbound(BaselineEvent(1.0, "calibrated")) is None
    kind, body = f.outbound(CueEvent(1.0, "overtalk", "on", "drift")) or ("", {})
    schemas.validate("events", _payload("events", body))
    kind, body = f.outbound(CallEvent(1.0, "end", 30.0, call="cd" * 16)) or ("", {})
    schemas.validate("events", _payload("events", body))


def test_eu_profile_lets_no_arousal_and_no_emotion_cue_out() -> None:
    policy = load_settings(None, ['policy.profile="eu"']).policy
    assert policy.stress == "off" and not policy.publish_arousal
    f = OutboundFilter(policy)
    _, body = f.outbound(_window({"stress": 1, "empathy": 1, "pace": 1})) or ("", {})
    assert "arousal" not in body["agent_side"] and "arousal" not in body["customer_side"]
    assert body["cues"] == {"pace": 1}
    assert "arousal" not in repr(body)
    for cue in ("stress", "empathy"):
        assert f.outbound(CueEvent(1.0, cue, "on", "drift")) is None


@pytest.mark.parametrize(
    "overrides",
    [
        ['policy.profile="eu"', "policy.publish_arousal=true"],
        ['policy.profile="eu"', 'policy.publish_cues=["empathy"]'],
        ['policy.profile="private"', "policy.publish_metrics=true"],
        ['policy.profile="nope"'],
    ],
)
def test_profiles_refuse_loosening(overrides: list[str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(None, overrides)


def test_private_profile_publishes_nothing() -> None:
    f = OutboundFilter(load_settings(None, ['policy.profile="private"']).policy)
    assert f.outbound(_window({})) is None
    assert f.outbound(CueEvent(1.0, "overtalk", "on", "drift")) is None


def test_calls_start_when_both_sides_spoke_and_end_after_silence() -> None:
    ids = iter(["a" * 32, "b" * 32])
    calls = CallTracker(CallSettings(end_silence_s=5.0), new_id=lambda: next(ids))
    changes = []
    script = [(0.0, True, False), (1.0, False, False), (2.0, False, True), (3.0, True, False)]
    script += [(t, False, False) for t in np.arange(3.1, 9.0, 0.1)]
    script += [(20.0, True, False), (20.5, False, True)]
    for t, a, c in script:
        ch = calls.update(float(t), a, c)
        if ch is not None:
            changes.append(ch)
    assert [(c.state, c.call) for c in changes] == [
        ("start", "a" * 32),
        ("end", "a" * 32),
        ("start", "b" * 32),
    ]
    assert changes[0].started_t == 0.0 and changes[0].t == 2.0
    assert changes[1].duration_s == pytest.approx(3.0)
    # the agent talking alone (no far end) is not a call
    solo = CallTracker(CallSettings(end_silence_s=5.0))
    assert all(solo.update(t, True, False) is None for t in np.arange(0, 30, 0.1))
    assert CallTracker(far_end=False).update(0.0, True, False) is not None


def test_current_turn_matches_the_monologue_definition() -> None:
    """The device's monologue signal reads the same turns the analysis reports."""
    rng = np.random.default_rng(3)
    agent = np.zeros(6000, bool)
    customer = np.zeros(6000, bool)
    for start in range(0, 4500, 150):  # 45 s of agent speech with 0.5 s pauses
        agent[start : start + 100] = True
    customer[4600:5000] = True
    customer[2000:2010] = rng.random(10) > 0.5  # a click, dropped as a spurt
    tr = DynamicsTracker()
    longest = 0.0
    for i in range(0, 6000, 10):
        tr.feed(agent[i : i + 10], customer[i : i + 10])
        longest = max(longest, tr.current_turn_s("agent"))
    tr.flush()
    mono = [e for e in tr.events if e.kind == "monologue" and e.side == "agent"]
    assert len(mono) == 1
    assert longest == pytest.approx(mono[0].duration_s, abs=0.5)


def test_recording_sink_keeps_cues() -> None:
    rec = RecordingSink()
    rec.handle(CueEvent(1.0, "pace", "on", "drift"))
    rec.handle(BaselineEvent(1.0, "frozen"))
    assert [c.cue for c in rec.cues] == ["pace"]
