"""The own-voice gate: a side talks only near its own speech level (the neighbours' speech in a
headset mic is not the agent talking), in stream order and independent of chunking."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge.detectors.tick import Lane
from edge.device.events import CueEvent
from edge.device.own_voice import OwnVoiceGate
from edge.device.pipeline import Pipeline
from edge.features.frames import FrameBatch
from edge.settings import AudioSettings, load_settings
from tests.device.fakes import blocks, hops, scripted_factory

HOP = 0.01


def lane(levels: np.ndarray, vad: np.ndarray | None = None) -> Lane:
    n = levels.size
    b = hops(n, vad=np.ones(n, bool) if vad is None else vad)
    return Lane.of(dataclasses.replace(b, level_dbfs=levels.astype(np.float32)))


def test_passes_everything_until_it_has_heard_two_seconds_of_speech() -> None:
    gate = OwnVoiceGate(6.0, window_s=20.0, hop_s=HOP)
    levels = np.r_[np.full(150, -20.0), np.full(50, -40.0), np.full(100, -40.0)]
    vad = np.ones(levels.size, bool)
    vad[100:120] = False  # pauses do not count as speech heard
    out = gate.gate(lane(levels, vad)).talk
    assert out[:220].sum() == 200  # 2 s of speech not heard yet: the -40 dB hops pass
    assert not out[220:].any()  # then 20 dB under the -20 dB reference: not this side
    assert gate.reference_db() == pytest.approx(-20.0, abs=0.5)


def test_judges_a_hop_by_the_peak_of_its_last_0_3_s_so_weak_syllables_stay() -> None:
    gate = OwnVoiceGate(6.0, window_s=20.0, hop_s=HOP)
    gate.gate(lane(np.full(300, -20.0)))
    # the talker's own speech: loud nuclei every 0.2 s with 15 dB valleys between them
    own = np.where(np.arange(200) % 20 < 5, -20.0, -35.0)
    assert gate.gate(lane(own)).talk.all()
    # a room 15 dB under the talker (its own peaks 3 dB over its level) after a 0.5 s pause
    vad = np.r_[np.zeros(50, bool), np.ones(200, bool)]
    room = np.where(np.arange(250) % 20 < 5, -32.0, -38.0)
    assert not gate.gate(lane(room, vad)).talk.any()
    levels = np.array([-20.0, -31.0, -33.0, -8.0, -25.0, np.nan, -20.0])
    vad = np.array([True, True, True, True, True, True, False])
    gated = gate.gate(lane(levels, vad))
    assert gated.talk.tolist() == [True] * 6 + [False]  # never adds speech; no level: kept
    np.testing.assert_array_equal(gated.vad, vad)  # the front-end's VAD is left as it was


def test_learns_the_level_again_after_a_minute_of_speech_it_never_kept() -> None:
    gate = OwnVoiceGate(6.0, window_s=5.0, hop_s=HOP, relearn_s=60.0)
    gate.gate(lane(np.full(600, -20.0)))
    quieter = gate.gate(lane(np.full(6300, -35.0))).talk  # the gain fell by 15 dB
    # a minute of speech that is not this side's level, then it is: learnt from scratch
    assert quieter[:29].all() and not quieter[29:6000].any()
    assert quieter[6050:].all()
    assert gate.reference_db() == pytest.approx(-35.0, abs=0.5)


def test_only_speech_into_the_other_sides_silence_counts_towards_relearning() -> None:
    gate = OwnVoiceGate(6.0, window_s=5.0, hop_s=HOP)  # relearns after 5 s by default
    gate.gate(lane(np.full(600, -20.0)))
    room = np.full(3000, -36.0)
    customer_talks = np.ones(room.size, bool)
    # 30 s of the room through a customer's turn: never this side, however long
    assert not gate.gate(lane(room), customer_talks).talk[29:].any()
    assert gate.reference_db() == pytest.approx(-20.0, abs=0.5)  # not pulled down to the room
    assert gate.gate(lane(np.full(100, -21.0)), customer_talks[:100]).talk.all()  # the wearer
    # the agent 15 dB quieter into the customer's silence: theirs again after 5 s
    quieter = gate.gate(lane(np.full(1000, -35.0)), np.zeros(1000, bool)).talk
    assert not quieter[29:529].any() and quieter[530:].all()
    with pytest.raises(ValueError, match="other_vad"):
        gate.gate(lane(room[:10]), customer_talks[:5])


def test_the_relearning_span_is_time_so_sparse_quiet_speech_is_learnt_before_dead_air() -> None:
    gate = OwnVoiceGate(6.0, window_s=5.0, hop_s=HOP)
    gate.gate(lane(np.full(600, -20.0)))
    gate.gate(lane(np.full(300, -80.0), np.zeros(300, bool)))  # 3 s of mutual silence
    # the gain fell 15 dB and only a third of the quieter speech is VAD speech (0.1 s in 0.3 s)
    vad = np.arange(1000) % 30 < 10
    out = gate.gate(lane(np.full(1000, -35.0), vad), np.zeros(1000, bool)).talk
    assert not out[:500].any() and out[520:][vad[520:]].all()  # learnt after 5 s, not 15 s
    # pauses of 2.5 s between bursts of quiet speech do not break the span
    gate = OwnVoiceGate(6.0, window_s=5.0, hop_s=HOP)
    gate.gate(lane(np.full(600, -20.0)))
    vad = np.arange(1400) % 350 < 100
    out = gate.gate(lane(np.full(1400, -35.0), vad), np.zeros(1400, bool)).talk
    assert not out[29:700].any() and out[1050:][vad[1050:]].all()  # learnt in the third burst
    # a pause over 3 s starts the span over: speech 4 s, pause 3.5 s, speech 4 s is never learnt
    gate = OwnVoiceGate(6.0, window_s=5.0, hop_s=HOP)
    gate.gate(lane(np.full(600, -20.0)))
    vad = np.r_[np.ones(400, bool), np.zeros(350, bool), np.ones(400, bool)]
    assert not gate.gate(lane(np.full(1150, -35.0), vad), np.zeros(1150, bool)).talk[29:].any()


def test_before_its_level_is_known_a_side_is_not_heard_through_the_other_sides_turn() -> None:
    gate = OwnVoiceGate(6.0, window_s=20.0, hop_s=HOP)
    # the customer speaks first; the agent's mic hears the room through the whole turn
    room = np.where(np.arange(1000) % 20 < 5, -33.0, -38.0)
    assert not gate.gate(lane(room), np.ones(1000, bool)).talk.any()
    assert gate.reference_db() is None  # and the room's level is not taken for the agent's
    # the agent answers into the customer's silence: talk at once, and its level is learnt
    assert gate.gate(lane(np.full(300, -20.0)), np.zeros(300, bool)).talk.all()
    assert gate.reference_db() == pytest.approx(-20.0, abs=0.5)
    assert not gate.gate(lane(room), np.ones(1000, bool)).talk[29:].any()  # the room, rejected
    # held back for at most 20 s: a far end that never falls silent does not mute the side
    gate = OwnVoiceGate(6.0, window_s=20.0, hop_s=HOP)
    out = gate.gate(lane(np.full(2500, -20.0)), np.ones(2500, bool)).talk
    assert not out[:2000].any() and out[2000:].all()
    # the far end's gate holds nothing back: a customer's first words over the agent are talk
    gate = OwnVoiceGate(6.0, window_s=20.0, hop_s=HOP, hold_s=0.0)
    assert gate.gate(lane(np.full(300, -20.0)), np.ones(300, bool)).talk.all()


def test_the_result_does_not_depend_on_how_the_stream_is_cut() -> None:
    rng = np.random.default_rng(4)
    n = 6000
    wearer = (np.arange(n) // 100) % 2 == 0  # 1 s turns of the wearer and of the room
    levels = np.where(wearer, -20.0, -36.0) + rng.normal(0, 3, n)
    levels[3000:] -= 4.0  # the talker moves the boom a little away: the reference follows
    vad = rng.random(n) < 0.7
    whole_gate = OwnVoiceGate(6.0, 5.0, HOP)
    whole = whole_gate.gate(lane(levels, vad)).talk
    gate = OwnVoiceGate(6.0, 5.0, HOP)
    parts, i = [], 0
    while i < n:
        k = int(rng.integers(1, 300))
        parts.append(gate.gate(lane(levels[i : i + k], vad[i : i + k])).talk)
        i += k
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert 0.5 < whole[vad].mean() < 1.0  # some of it, not all: the test can fail both ways
    assert gate.reference_db() == whole_gate.reference_db()
    assert gate.reference_db() == pytest.approx(np.percentile(levels[whole][-500:], 75), abs=1.0)


def test_off_and_reset() -> None:
    x = lane(np.full(50, -60.0))
    assert OwnVoiceGate(0.0, 1.0, HOP).gate(x) is x  # 0: every VAD hop counts
    gate = OwnVoiceGate(12.0, 0.2, HOP)
    gate.gate(lane(np.full(50, -20.0)))
    assert gate.reference_db() is not None
    gate.reset()
    assert gate.reference_db() is None
    assert gate.gate(lane(np.full(10, -60.0))).talk.all()
    with pytest.raises(ValueError):
        OwnVoiceGate(-1.0, 1.0, HOP)


@pytest.mark.parametrize(
    ("key", "value"), [("own_voice_range_db", -3), ("own_voice_window_s", 0.5)]
)
def test_settings_are_validated(key: str, value: float) -> None:
    with pytest.raises(Exception, match=key):
        load_settings(None, [f"audio.{key}={value}"])


def _office(seconds: float) -> tuple[FrameBatch, FrameBatch]:
    """Agent 8 s / customer 2 s turns; the agent's mic hears a neighbour 16 dB under the agent
    through every customer turn."""
    n = round(seconds / HOP)
    period = 1000
    agent_on = (np.arange(n) % period) < 800
    cust_on = ~agent_on & ((np.arange(n) % period) > 820)
    agent = hops(n, vad=agent_on | cust_on)
    level = np.where(agent_on, -20.0, -36.0).astype(np.float32)
    return dataclasses.replace(agent, level_dbfs=level), hops(n, vad=cust_on, seed=1)


@pytest.mark.parametrize("range_db", [6.0, 0.0])
def test_a_neighbour_in_the_agents_mic_is_not_overtalk(range_db: float) -> None:
    agent, cust = _office(150)
    settings = load_settings(None, ["budget.min_gap_s=0", f"audio.own_voice_range_db={range_db}"])
    pipe = Pipeline(settings, frontend_factory=scripted_factory(agent, cust))
    events = []
    for b in blocks(150):
        events += pipe.step(b)
    events += pipe.flush()
    overtalk = [
        e for e in events if isinstance(e, CueEvent) and e.cue == "overtalk" and e.state == "on"
    ]
    if range_db:
        assert overtalk == []
    else:  # without the gate the neighbour talks over every customer turn
        assert len(overtalk) >= 1


def test_a_neighbour_through_the_customers_first_turn_is_not_overtalk() -> None:
    """A fresh unit, the customer speaks first (8 s turns each), the agent's mic hears a
    neighbour 16 dB down through the customer's turns: not the agent talking over them, and the
    customer's own talk counts in full (the customer is judged against the agent's talk, not
    against the room in the agent's VAD)."""
    n = round(120 / HOP)
    i = np.arange(n)
    cust_on = (i % 1600) < 780
    agent_on = (i % 1600) >= 800
    agent = hops(n, vad=agent_on | cust_on)
    level = np.where(agent_on, -20.0, -36.0).astype(np.float32)
    agent = dataclasses.replace(agent, level_dbfs=level)
    cust = hops(n, vad=cust_on, seed=1)
    cues = {r: _overtalk_cues(agent, cust, r) for r in (6.0, 0.0)}
    assert cues[6.0] == [] and len(cues[0.0]) >= 1  # without the gate: overtalk
    settings = load_settings(None, [])
    pipe = Pipeline(settings, frontend_factory=scripted_factory(agent, cust))
    for b in blocks(120):
        pipe.step(b)
    pipe.flush()
    assert pipe.dynamics.talk_s("customer") == pytest.approx(cust_on.sum() * HOP, rel=0.02)


def _overtalk_cues(agent: FrameBatch, cust: FrameBatch, range_db: float) -> list[float]:
    settings = load_settings(None, ["budget.min_gap_s=0", f"audio.own_voice_range_db={range_db}"])
    pipe = Pipeline(settings, frontend_factory=scripted_factory(agent, cust))
    events = []
    for b in blocks(len(agent) * HOP):
        events += pipe.step(b)
    events += pipe.flush()
    return [
        e.t for e in events if isinstance(e, CueEvent) and e.cue == "overtalk" and e.state == "on"
    ]


def test_real_overtalk_with_weak_syllables_on_both_sides_still_cues() -> None:
    """Both talkers' speech has 15 dB valleys between loud nuclei (a hop-by-hop gate drops the
    valleys on both sides, and the overlap share with them); the customer opens the call (3 s
    into silence: a fresh side's level is learnt before it can talk over the other) and then
    talks over the last 6 s of every 36 s agent turn."""
    n = round(154 / HOP)
    i = np.arange(n)
    syllable = np.where(i % 20 < 6, 0.0, -15.0)
    k = i - 400  # the agent's first turn starts at 4 s
    agent = hops(n, vad=(k >= 0) & ((k % 4000) < 3600))
    cust = hops(n, vad=(i < 300) | ((k >= 0) & ((k % 4000) >= 3000)), seed=1)
    agent = dataclasses.replace(agent, level_dbfs=(-20.0 + syllable).astype(np.float32))
    level = (-25.0 + np.roll(syllable, 7)).astype(np.float32)
    cust = dataclasses.replace(cust, level_dbfs=level)
    assert load_settings(None, []).audio.own_voice_range_db > 0  # the gate is on by default
    gated, ungated = _overtalk_cues(agent, cust, 6.0), _overtalk_cues(agent, cust, 0.0)
    assert len(gated) >= 2 and all(30 < (t - 4) % 40 < 36 for t in gated)
    assert gated == pytest.approx(ungated, abs=0.2)  # as early as without the gate


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_poise_analyze_uses_the_same_gate_for_its_dynamics(tmp_path: Path) -> None:
    from edge.audio.resample import to_int16
    from edge.audio.wav import write_wav
    from edge.audio.wav_source import WavFileSource
    from edge.recording.analyze import analyze_source
    from tests.analyze.test_analyze_cli import RATE, _say

    agent = _say(
        "Thank you for calling, how can I help you with your account today?", "en-us", tmp_path
    )
    cust = _say("My bill is wrong again and I want it fixed right now please.", "en+f3", tmp_path)
    near = _say(
        "Yes, I can see your order here, it left the warehouse on Monday.", "en-gb", tmp_path
    )
    c0 = agent.size + RATE // 2
    n = c0 + max(cust.size, near.size) + RATE
    x = np.zeros((n, 2), np.float32)
    x[: agent.size, 0] = agent
    x[c0 : c0 + cust.size, 1] = cust
    x[c0 : c0 + near.size, 0] += near * np.float32(10 ** (-20 / 20))  # the next desk
    x += np.random.default_rng(0).normal(0, 10 ** (-65 / 20), x.shape).astype(np.float32)
    wav = tmp_path / "office.wav"
    write_wav(wav, to_int16(x), RATE)
    overlap = {
        r: analyze_source(
            WavFileSource(wav), ["agent", "customer"], audio=AudioSettings(own_voice_range_db=r)
        ).dynamics.summary()["overlap_s"]  # type: ignore[union-attr]
        for r in (6.0, 0.0)
    }
    # one espeak-ng neighbour 20 dB down: 3.2 s of overlap without the gate, 0.6 s with it (16 dB
    # down, 2.1 s: a single loud neighbour's peaks reach into the range, a room's babble less)
    assert overlap[6.0] < 1.0 and overlap[0.0] > 2.5
