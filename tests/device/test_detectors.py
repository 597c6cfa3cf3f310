"""Drift state machines and the arbiter: hysteresis, min duration, exit hold, refractory, budget,
priority, timeout; driven by synthetic signal streams on a 0.1 s tick."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.detectors.arbiter import Arbiter
from edge.detectors.hysteresis import Drift, Transition
from edge.device.events import SuppressedEvent
from edge.settings import (
    BudgetSettings,
    DetectorSettings,
    DetectorsSettings,
    FlatSettings,
    PolicySettings,
)

TICK = 0.1


def run(drift: Drift, values: np.ndarray, t0: float = 0.0) -> list[Transition]:
    out = []
    for i, v in enumerate(values):
        tr = drift.update(round(t0 + i * TICK, 6), float(v))
        if tr is not None:
            out.append(tr)
    return out


def settings_(**kw: float) -> DetectorSettings:
    base = {
        "enter": 2.0,
        "exit": 1.0,
        "min_duration_s": 1.0,
        "exit_hold_s": 0.0,
        "refractory_s": 5.0,
    }
    base.update(kw)
    return DetectorSettings(**base)  # type: ignore[arg-type]


def test_enters_only_after_min_duration():
    d = Drift("pace", settings_(min_duration_s=1.0))
    sig = np.r_[np.zeros(10), np.full(30, 3.0)]
    trs = run(d, sig)
    assert [tr.state for tr in trs] == ["on"]
    assert math.isclose(trs[0].t, 1.0 + 1.0, abs_tol=1e-6)


def test_short_excursions_do_not_enter():
    d = Drift("pace", settings_(min_duration_s=1.0))
    burst = np.r_[np.full(9, 3.0), np.zeros(5)]  # 0.9 s above, then back
    assert run(d, np.tile(burst, 10)) == []


def test_hysteresis_band_keeps_state():
    d = Drift("pace", settings_(min_duration_s=0.0))
    trs = run(d, np.r_[3.0, np.full(50, 1.5), 0.5])
    assert [(tr.state, tr.value) for tr in trs] == [("on", 3.0), ("off", 0.5)]


def test_exit_hold_ignores_short_dips():
    d = Drift("pace", settings_(min_duration_s=0.0, exit_hold_s=1.0))
    sig = np.r_[3.0, np.tile(np.r_[np.full(5, 0.5), np.full(5, 3.0)], 4), np.full(11, 0.5)]
    trs = run(d, sig)
    assert [tr.state for tr in trs] == ["on", "off"]
    assert math.isclose(trs[1].t, (1 + 40 + 10) * TICK, abs_tol=1e-6)


def test_refractory_blocks_reentry():
    d = Drift("pace", settings_(min_duration_s=0.0, refractory_s=5.0))
    sig = np.r_[3.0, 0.5, np.full(60, 3.0)]
    trs = run(d, sig)
    assert [tr.state for tr in trs] == ["on", "off", "on"]
    assert trs[2].t - trs[1].t >= 5.0 - 1e-9


def test_nan_holds_state_and_pending():
    d = Drift("pace", settings_(min_duration_s=1.0))
    sig = np.r_[np.full(5, 3.0), np.full(20, np.nan), np.full(1, 3.0)]
    trs = run(d, sig)
    assert [tr.state for tr in trs] == ["on"]  # the NaN stretch neither reset nor ended it
    d2 = Drift("pace", settings_(min_duration_s=0.0))
    assert [tr.state for tr in run(d2, np.r_[3.0, np.full(100, np.nan)])] == ["on"]
    assert d2.active


def test_below_direction_for_flat():
    d = Drift("flat", FlatSettings(min_duration_s=0.5, exit_hold_s=0.0), below=True)
    trs = run(d, np.r_[np.ones(5), np.full(10, 0.3), np.full(3, 0.7), np.full(3, 0.9)])
    assert [tr.state for tr in trs] == ["on", "off"]
    assert trs[1].value == 0.9


def _arbiter(max_cues: int = 2, gap: float = 0.0, publish=("overtalk",)) -> Arbiter:
    return Arbiter(
        DetectorsSettings(), BudgetSettings(max_cues, gap), PolicySettings(publish_cues=publish)
    )


def tr(name: str, t: float, state: str) -> Transition:
    return Transition(name, t, state, 1.0)


def cues(events):
    return [(e.cue, e.state, e.reason) for e in events if e.kind == "cue"]


def test_budget_limits_cues_per_ten_minutes():
    a = _arbiter(max_cues=2)
    shown = []
    for i in range(6):
        t = i * 100.0
        shown += cues(a.step(t, [tr("pace", t, "on")]))
        shown += cues(a.step(t + 1, [tr("pace", t + 1, "off")]))
    assert [s for s in shown if s[1] == "on"] == [("pace", "on", "drift")] * 2
    later = cues(a.step(601.0, [tr("pace", 601.0, "on")]))  # first start left the window
    assert later == [("pace", "on", "drift")]


def test_suppressions_are_reported_with_reason():
    a = _arbiter(max_cues=1)
    a.step(0.0, [tr("pace", 0.0, "on")])
    a.step(1.0, [tr("pace", 1.0, "off")])
    ev = a.step(2.0, [tr("flat", 2.0, "on")])
    assert [(e.kind, e.cue, e.reason) for e in ev if isinstance(e, SuppressedEvent)] == [
        ("suppressed", "flat", "budget")
    ]


def test_min_gap_between_cues():
    a = _arbiter(max_cues=10, gap=20.0)
    a.step(0.0, [tr("pace", 0.0, "on")])
    a.step(5.0, [tr("pace", 5.0, "off")])
    assert cues(a.step(10.0, [tr("flat", 10.0, "on")])) == []
    assert cues(a.step(26.0, [tr("monologue", 26.0, "on")])) == [("monologue", "on", "drift")]


def test_a_suppressed_drift_still_on_is_shown_once_the_gap_allows():
    a = _arbiter(max_cues=10, gap=20.0)
    a.step(0.0, [tr("pace", 0.0, "on")])  # priority 60
    a.step(5.0, [tr("pace", 5.0, "off")])
    ev = a.step(10.0, [tr("stress", 10.0, "on")])  # 55: waits out the gap
    assert [e.reason for e in ev if isinstance(e, SuppressedEvent)] == ["gap"]
    assert cues(a.step(24.9, [])) == []
    assert cues(a.step(25.0, [])) == [("stress", "on", "deferred")]
    assert cues(a.step(26.0, [tr("stress", 26.0, "off")])) == [("stress", "off", "ended")]


def test_a_higher_priority_drift_does_not_wait_out_the_gap():
    # as it could have replaced the lower cue while shown, it need not wait after it ended
    a = _arbiter(max_cues=10, gap=20.0)
    a.step(0.0, [tr("flat", 0.0, "on")])  # priority 20
    a.step(5.0, [tr("flat", 5.0, "off")])
    assert cues(a.step(10.0, [tr("stress", 10.0, "on")])) == [("stress", "on", "drift")]
    a.step(12.0, [tr("stress", 12.0, "off")])
    # after stress (55) ends, pace (60) passes the gap at once; flat (20) waits it out
    ev = a.step(14.0, [tr("flat", 14.0, "on"), tr("pace", 14.0, "on")])
    assert cues(ev) == [("pace", "on", "drift")]
    assert cues(a.step(15.0, [tr("pace", 15.0, "off")])) == [("pace", "off", "ended")]
    assert cues(a.step(34.9, [])) == []
    assert cues(a.step(35.0, [])) == [("flat", "on", "deferred")]
    budget = _arbiter(max_cues=1, gap=20.0)  # the 10-minute budget still counts it
    budget.step(0.0, [tr("flat", 0.0, "on")])
    budget.step(5.0, [tr("flat", 5.0, "off")])
    ev = budget.step(6.0, [tr("stress", 6.0, "on")])
    assert [e.reason for e in ev if isinstance(e, SuppressedEvent)] == ["budget"]


def test_a_suppressed_drift_that_ended_is_never_shown():
    a = _arbiter(max_cues=10, gap=20.0)
    a.step(0.0, [tr("flat", 0.0, "on")])
    a.step(5.0, [tr("flat", 5.0, "off")])
    a.step(10.0, [tr("pace", 10.0, "on")])
    a.step(12.0, [tr("pace", 12.0, "off")])
    assert cues(a.step(30.0, [])) == []
    assert a.showing is None


def test_busy_drifts_wait_their_turn_by_priority_and_a_timed_out_cue_stays_off():
    a = _arbiter(max_cues=10, gap=0.0)
    a.step(0.0, [tr("overtalk", 0.0, "on")])  # priority 80, max_on_s 5
    ev = a.step(1.0, [tr("flat", 1.0, "on"), tr("pace", 1.0, "on")])  # 20 and 60: busy
    assert [e.reason for e in ev if isinstance(e, SuppressedEvent)] == ["busy", "busy"]
    ev = a.step(2.0, [tr("overtalk", 2.0, "off")])
    assert cues(ev) == [("overtalk", "off", "ended"), ("pace", "on", "deferred")]
    # pace times out while its drift is still on: it does not come back, flat gets its turn
    assert cues(a.step(2.0 + DetectorsSettings().pace.max_on_s, [])) == [
        ("pace", "off", "timeout"),
        ("flat", "on", "deferred"),
    ]


def test_the_budget_defers_too_and_flush_forgets_what_waits():
    a = _arbiter(max_cues=1, gap=0.0)
    a.step(0.0, [tr("pace", 0.0, "on")])
    a.step(1.0, [tr("pace", 1.0, "off")])
    a.step(2.0, [tr("flat", 2.0, "on")])  # budget: one start per 600 s
    assert cues(a.step(599.0, [])) == []
    assert cues(a.step(600.0, [])) == [("flat", "on", "deferred")]
    a.clear(601.0, "flush")
    b = _arbiter(max_cues=1, gap=0.0)
    b.step(0.0, [tr("pace", 0.0, "on")])
    b.step(1.0, [tr("pace", 1.0, "off")])
    b.step(2.0, [tr("flat", 2.0, "on")])
    assert b.clear(3.0, "flush") is None
    assert cues(b.step(700.0, [])) == []


def test_priority_preempts_and_lower_is_busy():
    a = _arbiter(max_cues=10)
    a.step(0.0, [tr("flat", 0.0, "on")])  # priority 20
    ev = a.step(1.0, [tr("overtalk", 1.0, "on")])  # priority 80
    assert cues(ev) == [("flat", "off", "preempted"), ("overtalk", "on", "drift")]
    ev = a.step(1.5, [tr("pace", 1.5, "on")])  # 60 < 80: busy
    assert [e.reason for e in ev if isinstance(e, SuppressedEvent)] == ["busy"]
    assert a.showing == "overtalk"


def test_simultaneous_drifts_pick_highest_priority():
    a = _arbiter(max_cues=10)
    ev = a.step(0.0, [tr("flat", 0.0, "on"), tr("empathy", 0.0, "on"), tr("pace", 0.0, "on")])
    assert [c for c in cues(ev) if c[1] == "on"] == [("empathy", "on", "drift")]


def test_shown_cue_times_out_after_max_on():
    a = _arbiter(max_cues=10)
    a.step(0.0, [tr("overtalk", 0.0, "on")])  # max_on_s = 5
    assert cues(a.step(4.9, [])) == []
    assert cues(a.step(5.0, [])) == [("overtalk", "off", "timeout")]
    assert cues(a.step(6.0, [tr("overtalk", 6.0, "off")])) == []  # already cleared


@given(
    values=st.lists(
        st.one_of(st.floats(-1.0, 4.0), st.just(float("nan"))), min_size=1, max_size=400
    ),
    min_dur=st.floats(0.0, 2.0),
    hold=st.floats(0.0, 2.0),
    refractory=st.floats(0.0, 10.0),
    share=st.floats(0.05, 1.0),
    scored=st.floats(0.0, 1.0),
)
@settings(max_examples=150, deadline=None)
def test_drift_invariants_on_random_signals(values, min_dur, hold, refractory, share, scored):
    d = Drift(
        "pace",
        settings_(
            min_duration_s=min_dur,
            exit_hold_s=hold,
            refractory_s=refractory,
            strong_min_share=share,
            scored_share=scored,
        ),
    )
    trs = run(d, np.asarray(values))
    states = [t.state for t in trs]
    assert all(a != b for a, b in itertools.pairwise(states))  # strictly alternating
    if states:
        assert states[0] == "on"
    for t in trs:
        assert (t.value >= 2.0) if t.state == "on" else (t.value < 1.0)
    offs = [t.t for t in trs if t.state == "off"]
    ons = [t.t for t in trs if t.state == "on"]
    for off in offs:  # refractory: next on no earlier than off + refractory
        later = [o for o in ons if o > off]
        if later:
            assert later[0] - off >= refractory - 1e-6


def test_dips_into_the_band_are_tolerated_but_a_majority_is_needed():
    d = Drift("pace", settings_(min_duration_s=2.0))
    wobbly = np.tile(np.r_[3.0, 3.0, 1.5], 10)  # two thirds past enter, never back past exit
    trs = run(d, wobbly)
    assert [tr.state for tr in trs] == ["on"] and trs[0].value == 3.0
    d2 = Drift("pace", settings_(min_duration_s=2.0))
    mostly_band = np.tile(np.r_[3.0, 1.5, 1.5], 30)  # one third past enter
    assert run(d2, mostly_band) == []
    d3 = Drift("pace", settings_(min_duration_s=2.0))
    falls_back = np.tile(np.r_[np.full(15, 3.0), 0.5], 5)  # back past exit every 1.6 s
    assert run(d3, falls_back) == []


def test_enter_share_sets_the_majority_the_wait_needs():
    two_fifths = np.tile(np.r_[3.0, 3.0, 1.5, 1.5, 1.5], 12)  # 40 % past enter, rest in the band
    assert run(Drift("pace", settings_(min_duration_s=2.0)), two_fifths) == []
    trs = run(Drift("pace", settings_(min_duration_s=2.0, enter_share=0.4)), two_fifths)
    assert [tr.state for tr in trs] == ["on"] and trs[0].t >= 2.0 - 1e-6
    for bad in (0.0, 1.2, float("nan")):
        with pytest.raises(ValueError, match="enter_share"):
            settings_(enter_share=bad)


def test_an_early_crossing_does_not_hold_a_sustained_one_back():
    # 0.3 s past enter, 4 s just under it (never back past exit), then past it for good: the
    # wait's own majority would need 3.7 s more; half of the last min_duration_s needs 1 s
    sig = np.r_[np.full(3, 3.0), np.full(40, 1.5), np.full(60, 3.0)]
    trs = run(Drift("pace", settings_(min_duration_s=2.0)), sig)
    assert [tr.state for tr in trs] == ["on"]
    assert math.isclose(trs[0].t, 4.3 + 1.0, abs_tol=1e-6)  # 11 of the last 21 ticks
    # without the early crossing the wait starts with the sustained stretch: the full 2 s
    late = run(Drift("pace", settings_(min_duration_s=2.0)), np.r_[np.full(43, 1.5), sig[43:]])
    assert math.isclose(late[0].t, 4.3 + 2.0, abs_tol=1e-6)


def test_a_strong_signal_waits_less_but_never_under_its_share():
    def onset(value: float, share: float, below: bool = False) -> float:
        st_: DetectorSettings = (
            FlatSettings(enter=0.6, exit=0.8, min_duration_s=2.0, strong_min_share=share)
            if below
            else settings_(min_duration_s=2.0, strong_min_share=share)
        )
        trs = run(Drift("x", st_, below=below), np.full(40, value))
        return trs[0].t

    assert math.isclose(onset(2.0, 0.5), 2.0, abs_tol=1e-6)  # at enter: the full wait
    assert math.isclose(onset(3.0, 0.5), 1.4, abs_tol=1e-6)  # 1.5x enter: 2 / 1.5 = 1.33 s
    assert math.isclose(onset(8.0, 0.5), 1.0, abs_tol=1e-6)  # 4x enter: floored at half
    assert math.isclose(onset(8.0, 1.0), 2.0, abs_tol=1e-6)  # share 1: the full wait
    assert math.isclose(onset(0.0, 0.25, below=True), 0.5, abs_tol=1e-6)  # flat at 0
    assert math.isclose(onset(0.3, 1.0, below=True), 2.0, abs_tol=1e-6)


def test_strong_min_share_must_be_a_share():
    for bad in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match="strong_min_share"):
            settings_(strong_min_share=bad)


def test_scored_share_counts_the_wait_in_scored_speech():
    # 0.5 s past enter, a 3 s pause (NaN), then past enter again for good
    sig = np.r_[np.full(5, 3.0), np.full(30, np.nan), np.full(40, 3.0)]
    by_time = run(Drift("x", settings_(min_duration_s=2.0)), sig)
    assert math.isclose(by_time[0].t, 3.5, abs_tol=1e-6)  # the pause counted as waiting
    by_speech = run(Drift("x", settings_(min_duration_s=2.0, scored_share=1.0)), sig)
    # 0.4 s scored before the pause (5 ticks), 1.6 s more after it: 3.5 + 1.6
    assert math.isclose(by_speech[0].t, 5.1, abs_tol=1e-6)
    half = run(Drift("x", settings_(min_duration_s=2.0, scored_share=0.5)), sig)
    assert math.isclose(half[0].t, 3.5 + 0.6, abs_tol=1e-6)  # 1 s scored
    # the same signal without the pause: the share changes nothing
    plain = np.r_[np.full(5, 3.0), np.full(40, 3.0)]
    for share in (0.0, 0.5, 1.0):
        trs = run(Drift("x", settings_(min_duration_s=2.0, scored_share=share)), plain)
        assert math.isclose(trs[0].t, 2.0, abs_tol=1e-6)
    # a pause followed by a fall back past exit starts the wait over, scored time too
    restart = np.r_[np.full(5, 3.0), np.full(30, np.nan), 0.0, np.full(40, 3.0)]
    trs = run(Drift("x", settings_(min_duration_s=2.0, scored_share=1.0)), restart)
    assert math.isclose(trs[0].t, 3.6 + 2.0, abs_tol=1e-6)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="scored_share"):
            settings_(scored_share=bad)


def test_running_median_is_exact_until_it_has_enough_then_steps():
    from edge.detectors.empathy import RunningMedian

    early_low = [-1.0] * 20 + [1.5] * 220  # the far end's first logits sit lower (set D's r07)
    exact, seeded = RunningMedian(0.005, warmup=20, exact=240), RunningMedian(0.005, warmup=20)
    for x in early_low:
        exact.update(x)
        seeded.update(x)
    assert exact.value == 1.5
    assert seeded.value == pytest.approx(-1.0 + 220 * 0.005)  # still 1.4 under the calm level
    exact.update(3.0)
    assert exact.value == pytest.approx(1.505)  # past `exact`: the slow sign step
    assert RunningMedian(0.005, warmup=20, exact=240).ready is False
