"""The I/O-free pipeline with scripted front-ends and model: detectors end to end, baseline
freeze, policy (stress off / agent-only, model missing), event schema and time order."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

from edge.detectors.prosody import AROUSAL_SMOOTH_WINDOWS
from edge.detectors.tick import Tick
from edge.device.events import CallEvent, MetricsWindow
from edge.device.pipeline import Pipeline
from edge.errors import InputError
from edge.features.frames import FrameBatch
from edge.model.baseline import ArousalBaseline
from edge.protocols import AudioBlock
from edge.settings import load_settings
from tests.device.fakes import ScriptedModel, blocks, hops, scripted_factory

FAST = ["baseline.calibration_speech_s=30", "baseline.follow_speech_s=60", "budget.min_gap_s=0"]


def run(pipe: Pipeline, seconds: float):
    events = []
    for b in blocks(seconds):
        events += pipe.step(b)
    events += pipe.flush()
    return events


def cue_ons(events):
    return [(round(e.t, 1), e.cue) for e in events if e.kind == "cue" and e.state == "on"]


def conversation(seconds: float, agent_kw=None, seed=0) -> tuple[FrameBatch, FrameBatch]:
    """Agent talks 8 s, customer 2 s, repeat: no overtalk, no monologue, no dead air."""
    n = round(seconds / 0.01)
    period = 1000
    agent_on = (np.arange(n) % period) < 800
    agent = hops(n, vad=agent_on, seed=seed, **(agent_kw or {}))
    customer = hops(n, vad=~agent_on & ((np.arange(n) % period) > 820), seed=seed + 1)
    return agent, customer


def test_calm_conversation_gives_no_cues_and_calibrates():
    agent, customer = conversation(120)
    pipe = Pipeline(load_settings(None, FAST), frontend_factory=scripted_factory(agent, customer))
    events = run(pipe, 120)
    assert cue_ons(events) == []
    cal = [e for e in events if e.kind == "baseline" and e.state == "calibrated"]
    assert len(cal) == 1 and 30 <= cal[0].t <= 45
    ref = cal[0].references["articulation_rate_sps"]
    assert ref["median"] == pytest.approx(5.0, abs=0.01)
    ts = [e.t for e in events]
    assert ts == sorted(ts)


def _splice(a: FrameBatch, b: FrameBatch, at: int) -> FrameBatch:
    return FrameBatch.concat([a.slice(0, at), b.slice(at, len(b))])


def test_pace_drift_cues_and_freezes_baseline():
    calm_a, cust = conversation(150)
    fast_a, _ = conversation(150, {"rate": 6.2})  # 6.2 / 5 = 1.24x baseline: under enter 1.25
    faster_a, _ = conversation(150, {"rate": 6.4})  # 1.28x baseline, below the 7.5 cap
    agent = _splice(calm_a, faster_a, 9000)
    pipe = Pipeline(load_settings(None, FAST), frontend_factory=scripted_factory(agent, cust))
    events = run(pipe, 150)
    ons = cue_ons(events)
    assert [c for _, c in ons] == ["pace"]
    assert 90.0 + 6.0 <= ons[0][0] <= 90.0 + 8.5  # min_duration 6 s after onset (+ rate window)
    frozen = [e.t for e in events if e.kind == "baseline" and e.state == "frozen"]
    assert frozen and frozen[0] == pytest.approx(ons[0][0], abs=0.06)
    ref = pipe.baseline.reference("articulation_rate_sps")
    assert ref is not None and ref.median == pytest.approx(5.0, abs=0.01)
    # 1.24x never crosses enter
    agent2 = _splice(calm_a, fast_a, 9000)
    pipe2 = Pipeline(load_settings(None, FAST), frontend_factory=scripted_factory(agent2, cust))
    assert cue_ons(run(pipe2, 150)) == []


def test_pace_caps_fire_before_calibration_and_never_below_floor():
    uncalibrated = ["baseline.calibration_speech_s=600", "baseline.follow_speech_s=600"]
    agent, cust = conversation(40, {"rate": 8.0})  # over the 7.5 cap: fast whoever it is
    pipe = Pipeline(
        load_settings(None, uncalibrated), frontend_factory=scripted_factory(agent, cust)
    )
    assert [c for _, c in cue_ons(run(pipe, 40))] == ["pace"]
    # 7 syl/s is a fast talker's habit, not a cue before their baseline says so
    agent, cust = conversation(40, {"rate": 7.0})
    pipe = Pipeline(
        load_settings(None, uncalibrated), frontend_factory=scripted_factory(agent, cust)
    )
    assert cue_ons(run(pipe, 40)) == []
    # a slow agent (2.5 syl/s baseline) speeding up 1.56x stays under the 4.0 floor: no cue
    slow, cust = conversation(150, {"rate": 2.5})
    quicker, _ = conversation(150, {"rate": 3.9})  # 1.56x baseline but below pace_min_sps
    agent = _splice(slow, quicker, 9000)
    pipe = Pipeline(load_settings(None, FAST), frontend_factory=scripted_factory(agent, cust))
    assert cue_ons(run(pipe, 150)) == []


def test_flat_drift():
    lively, cust = conversation(150, {"spread_st": 2.0})
    flat, _ = conversation(150, {"spread_st": 1.0})  # half the baseline spread
    agent = _splice(lively, flat, 9000)
    pipe = Pipeline(load_settings(None, FAST), frontend_factory=scripted_factory(agent, cust))
    ons = cue_ons(run(pipe, 150))
    assert [c for _, c in ons] == ["flat"]
    assert 95.0 <= ons[0][0] <= 110.0  # 5 s pitch window + 8 s min duration


def test_overtalk_monologue_dead_air_from_vad():
    n = 20000  # 200 s
    t = np.arange(n) * 0.01
    agent_on = (t < 100) | ((t > 130) & (t < 140)) | (t > 160)
    cust_on = ((t > 100.5) & (t < 101)) | ((t > 135) & (t < 139))  # backchannel, then overlap
    agent = hops(n, vad=agent_on)
    cust = hops(n, vad=cust_on, seed=3)
    pipe = Pipeline(
        load_settings(None, [*FAST, "detectors.dead_air.enter=20"]),
        frontend_factory=scripted_factory(agent, cust),
    )
    events = run(pipe, 200)
    ons = cue_ons(events)
    assert ("monologue" in [c for _, c in ons]) and ons[0] == (60.0, "monologue")
    offs = [e for e in events if e.kind == "cue" and e.state == "off"]
    assert offs[0].cue == "monologue" and offs[0].reason == "timeout"
    drift_off = [
        e.t for e in events if e.kind == "drift" and e.cue == "monologue" and e.state == "off"
    ]
    assert drift_off and 100 <= drift_off[0] <= 104  # the agent stopped at 100 s
    assert any(c == "dead_air" and 120 <= t0 <= 122 for t0, c in ons)
    assert any(c == "overtalk" and 136 <= t0 <= 137.5 for t0, c in ons)


def _noisy(t: float) -> float:
    """A deterministic, noisy calm logit around 0 (SD ~1) as a function of time."""
    return float(np.sin(12.9898 * t) * 1.7 + np.cos(78.233 * t) * 0.6)


def _stress_pipe(policy: list[str], with_model: bool = True, until: float = 1e9):
    agent, cust = conversation(150)

    def arousal(t: float) -> float:
        return _noisy(t) + (14.0 if 100 < t <= until else 0.0)

    arousals = [arousal, lambda t: 0.0]  # agent model first, then the customer's

    def factory() -> ScriptedModel:
        return ScriptedModel(arousals.pop(0))

    if not with_model:
        return Pipeline(
            load_settings(None, FAST + policy), frontend_factory=scripted_factory(agent, cust)
        )
    return Pipeline(
        load_settings(None, FAST + policy),
        model_factory=factory,
        frontend_factory=scripted_factory(agent, cust),
    )


def test_stress_agent_only_cues_but_is_never_published():
    events = run(_stress_pipe([]), 150)
    on = [e for e in events if e.kind == "cue" and e.state == "on"]
    # a rise far past enter waits half of min_duration_s (2 s) after the ~1 s smoothing
    assert [e.cue for e in on] == ["stress"] and 102.5 <= on[0].t <= 104
    from edge.policy import OutboundFilter

    assert OutboundFilter(_stress_pipe([]).settings.policy).outbound(on[0]) is None


def test_stress_is_relative_to_the_agents_arousal_baseline_clears_and_freezes():
    pipe = _stress_pipe([], until=125.0)
    events = run(pipe, 150)
    on = [e for e in events if e.kind == "cue" and e.state == "on"]
    assert [e.cue for e in on] == ["stress"] and 102.5 <= on[0].t <= 104
    off = [e.t for e in events if e.kind == "drift" and e.cue == "stress" and e.state == "off"]
    assert off and 125 < off[0] <= 132  # back at the agent's own baseline: the drift ends
    # frozen while the drift was active: only the windows before the drift started (the 5 s
    # min_duration, ~10 windows) entered the agent's arousal baseline, not the other ~30 raised
    raised = [v for v in pipe.baseline.arousal.state()["logits"] if v > 8.0]
    assert 0 < len(raised) <= 14
    assert pipe.baseline.reference("arousal") is not None


def _pitch_stress_pipe(rise_st: float, policy: list[str]) -> Pipeline:
    """Flat model arousal; from 90 s the agent's voice is ``rise_st`` semitones higher."""
    calm_a, cust = conversation(150)
    spread = 2.0 * np.random.default_rng(7).standard_normal(15000)  # the usual pitch spread
    high_a, _ = conversation(150, {"f0_st": 60.0 + rise_st + spread})
    agent = _splice(calm_a, high_a, 9000)
    arousals = [_noisy, lambda t: 0.0]
    return Pipeline(
        load_settings(None, FAST + policy),
        model_factory=lambda: ScriptedModel(arousals.pop(0)),
        frontend_factory=scripted_factory(agent, cust),
    )


def test_stress_adds_the_agents_pitch_rise_over_their_baseline():
    # 9 st above the baseline median = 3 units at 3 st/unit: a stress cue with calm model arousal
    events = run(_pitch_stress_pipe(9.0, []), 150)
    on = cue_ons(events)
    assert [c for _, c in on] == ["stress"] and 90.0 + 5.0 <= on[0][0] <= 90.0 + 9.0
    # the same rise with the pitch term off, or a smaller rise (1.5 st = 0.5 unit): no cue
    off = run(_pitch_stress_pipe(9.0, ["detectors.stress.pitch_st_per_unit=0"]), 150)
    assert cue_ons(off) == []
    assert cue_ons(run(_pitch_stress_pipe(1.5, []), 150)) == []
    pipe = _pitch_stress_pipe(9.0, [])
    run(pipe, 60)
    ref = pipe.baseline.reference("pitch_level_st")
    assert ref is not None and ref.median == pytest.approx(60.0, abs=0.3)


def test_a_talker_of_short_phrases_still_gets_a_pitch_baseline_and_stress():
    """0.7 s phrases every 4 s: never 1.5 s voiced within 5 s of time, but the median pitch
    skips pauses, so the pitch baseline calibrates and a raised voice still cues ``stress``."""
    n = 36000
    phase = np.arange(n) % 400
    agent_on, cust_on = phase < 70, (phase > 150) & (phase < 350)
    spread = 2.0 * np.random.default_rng(7).standard_normal(n)
    f0 = 60.0 + spread + np.where(np.arange(n) >= 27000, 9.0, 0.0)
    agent = hops(n, vad=agent_on, f0_st=f0, seed=3)
    cust = hops(n, vad=cust_on, seed=4)
    arousals = [_noisy, lambda t: 0.0]
    pipe = Pipeline(
        load_settings(None, FAST),
        model_factory=lambda: ScriptedModel(arousals.pop(0)),
        frontend_factory=scripted_factory(agent, cust),
    )
    events = run(pipe, 360)
    ref = pipe.baseline.reference("pitch_level_st")
    assert ref is not None and ref.median == pytest.approx(60.0, abs=0.3)
    assert pipe.baseline.reference("pitch_spread_st") is None  # flat needs 1.5 s voiced in 5 s
    on = cue_ons(events)
    # 5 s of speech take ~30 s of time at this talk share: the median turns within that
    assert [c for _, c in on] == ["stress"] and 270.0 < on[0][0] <= 270.0 + 40.0


def test_device_stress_score_is_arousal_baseline_relative():
    """The "exactly as the device" property: the stress signal is ``ArousalBaseline.relative``
    of the median of the last few windows, with the baseline fed every agent speech window."""
    pipe = _stress_pipe(
        [
            "detectors.stress.enter=1000",
            "detectors.stress.exit=999",
            "detectors.stress.pitch_st_per_unit=0",  # the model's part alone
        ]
    )
    seen: list[tuple[Tick, float]] = []
    compute = pipe._signals["stress"]

    def spy(tick: Tick) -> float:
        v = compute(tick)
        seen.append((tick, v))
        return v

    pipe._signals["stress"] = spy
    run(pipe, 150)
    ref = ArousalBaseline()
    recent: list[float] = []
    speech = 0.0
    checked = 0
    for tick, v in seen:
        recent = (recent + [float(a) for a in tick.agent_arousal])[-AROUSAL_SMOOTH_WINDOWS:]
        ready = speech >= 30.0 - 1e-6 and ref.ready  # FAST calibration: 30 s of speech
        if tick.agent_speaking and recent and ready:
            expected = ref.relative(float(np.median(recent)))
            assert expected is not None and v == pytest.approx(expected, abs=1e-9)
            checked += 1
        else:
            assert np.isnan(v)
        if tick.agent.vad.any():
            for a in tick.agent_arousal:
                ref.add(float(a))
            speech += float(tick.agent.vad.sum()) * 0.01
    assert checked > 500
    assert len(ref) == len(pipe.baseline.arousal)


def test_stress_off_never_computes_stress():
    pipe = _stress_pipe(["policy.stress=off"])
    assert "stress" not in pipe.running
    events = run(pipe, 150)
    assert all(getattr(e, "cue", None) != "stress" for e in events)


def test_without_model_stress_and_empathy_are_disabled(caplog):
    with caplog.at_level(logging.INFO, logger="edge.device.pipeline"):
        pipe = _stress_pipe([], with_model=False)
    assert "stress" not in pipe.running and "empathy" not in pipe.running
    assert "pace" in pipe.running
    assert any("stress and empathy disabled" in r.message for r in caplog.records)
    assert cue_ons(run(pipe, 150)) == []


def test_empathy_from_customer_arousal_and_loudness():
    agent, cust = conversation(150)
    loud = hops(len(cust), vad=cust.vad, level=-8.0, seed=1)
    cust = _splice(cust, loud, 9000)
    arousals = [lambda t: 0.0, lambda t: 7.5 if t > 90 else 0.0]

    def factory() -> ScriptedModel:
        return ScriptedModel(arousals.pop(0))

    pipe = Pipeline(
        load_settings(None, FAST),
        model_factory=factory,
        frontend_factory=scripted_factory(agent, cust),
    )
    on = [e for e in run(pipe, 150) if e.kind == "cue" and e.state == "on"]
    # arousal +7.5 and +12 dB / 6 = +2 -> 9.5 > 8 after 3 s of customer speech
    assert [e.cue for e in on] == ["empathy"] and 90 < on[0].t < 115


def _pitch_empathy_pipe(rise_st: float, policy: list[str]) -> Pipeline:
    """From 90 s the customer's arousal is 4 logits up (under the 5.5 threshold alone) and their
    voice ``rise_st`` semitones higher; loudness unchanged."""
    agent, calm_c = conversation(150)
    n = len(calm_c)
    f0 = 60.0 + 2.0 * np.random.default_rng(5).standard_normal(n) + rise_st
    high_c = hops(n, vad=calm_c.vad, f0_st=f0, seed=1)
    cust = _splice(calm_c, high_c, 9000)
    arousals = [lambda t: 0.0, lambda t: 4.0 if t > 90 else 0.0]
    return Pipeline(
        load_settings(None, FAST + policy),
        model_factory=lambda: ScriptedModel(arousals.pop(0)),
        frontend_factory=scripted_factory(agent, cust),
    )


def test_empathy_adds_the_customers_raised_pitch():
    # arousal +4 and 6 st above the running median at 3 st/unit: 4 + 2 = 6 > 5.5
    # (the median pitch is over 5 s of customer speech, which takes ~28 s at 1.8 s a turn)
    on = cue_ons(run(_pitch_empathy_pipe(6.0, []), 150))
    assert [c for _, c in on] == ["empathy"] and 90.0 < on[0][0] < 125.0
    # the pitch term off, or a 3 st rise (4 + 1 = 5): no cue
    off = ["detectors.empathy.pitch_st_per_unit=0"]
    assert cue_ons(run(_pitch_empathy_pipe(6.0, off), 150)) == []
    assert cue_ons(run(_pitch_empathy_pipe(3.0, []), 150)) == []


def test_empathy_needs_a_raised_voice_besides_the_model():
    # arousal +7.5 logits from 90 s (over 5.5 alone) with the customer's pitch and level as usual
    def pipe(policy: list[str]) -> Pipeline:
        agent, cust = conversation(150)
        arousals = [lambda t: 0.0, lambda t: 7.5 if t > 90 else 0.0]
        return Pipeline(
            load_settings(None, FAST + policy),
            model_factory=lambda: ScriptedModel(arousals.pop(0)),
            frontend_factory=scripted_factory(agent, cust),
        )

    assert cue_ons(run(pipe([]), 150)) == []  # the model's excursion alone: held under enter
    ungated = ["detectors.empathy.raised_pitch_st=0", "detectors.empathy.raised_level_db=0"]
    on = cue_ons(run(pipe(ungated), 150))
    assert [c for _, c in on] == ["empathy"] and 90.0 < on[0][0] < 115.0


def test_policy_detectors_list_limits_what_runs():
    pipe = Pipeline(
        load_settings(None, ['policy.detectors=["overtalk"]']),
        frontend_factory=scripted_factory(hops(10), hops(10)),
    )
    assert pipe.running == ("overtalk",)


def test_rejects_wrong_rate_or_channels():
    pipe = Pipeline(frontend_factory=scripted_factory(hops(10), hops(10)))
    with pytest.raises(InputError, match="8000 Hz"):
        pipe.step(AudioBlock(0.0, np.zeros((80, 2), np.int16), 8000))
    with pytest.raises(InputError, match="2 channel"):
        pipe.step(AudioBlock(0.0, np.zeros((160, 3), np.int16), 16000))


def test_metrics_windows_aggregate_every_tick():
    agent, cust = conversation(25)
    pipe = Pipeline(frontend_factory=scripted_factory(agent, cust))
    events = run(pipe, 25)
    windows = [e for e in events if isinstance(e, MetricsWindow)]
    starts = [e for e in events if isinstance(e, CallEvent) and e.state == "start"]
    # windows tile the stream: at most 10 s each, cut where the call starts, the last one
    # closed by the end of the stream (which also ends the call)
    assert len(starts) == 1 and starts[0].call is not None
    assert windows[0].t_start == 0.0 and windows[0].call is None
    assert all(b.t_start == pytest.approx(a.t) for a, b in itertools.pairwise(windows))
    assert all(w.duration_s <= 10.0 + 1e-6 for w in windows)
    assert any(w.t == pytest.approx(starts[0].t - 0.1, abs=0.11) for w in windows)
    assert all(w.call == starts[0].call for w in windows[1:])
    assert windows[-1].t == pytest.approx(25.0, abs=0.11)
    total_speech = sum(w.agent_side.speech_s for w in windows)
    assert total_speech == pytest.approx(pipe.agent_speech_s, abs=1e-6)
    assert all(w.baseline_state == "calibrating" for w in windows)
    assert windows[0].customer_side is not None


def test_device_counts_with_the_learned_counter_unless_switched_off() -> None:
    from edge.features.syllables import default_net

    extra = default_net().lookahead
    plain = Pipeline(load_settings(None, ["audio.learned_syllables=false"]))
    learned = Pipeline(load_settings(None, []))
    lat = [[ch.fe.latency_hops for ch in p._channels] for p in (plain, learned)]  # type: ignore[attr-defined]
    assert lat[1] == [n + extra for n in lat[0]]
