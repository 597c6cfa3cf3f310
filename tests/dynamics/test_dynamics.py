from __future__ import annotations

import numpy as np
import pytest

from edge.conversation.dynamics import (
    DynamicsConfig,
    DynamicsTracker,
    SpurtSmoother,
    dynamics_from_vad,
)

HOP = 0.01


def vad(total_s: float, *spans: tuple[float, float]) -> np.ndarray:
    """Per-hop VAD that is on inside the given (start_s, end_s) spans."""
    x = np.zeros(round(total_s / HOP), bool)
    for a, b in spans:
        x[round(a / HOP) : round(b / HOP)] = True
    return x


def reference_smooth(x: np.ndarray, bridge: int, min_len: int) -> np.ndarray:
    """Plain, loop-based statement of the smoothing rule (independent of the vectorised one)."""
    y = [bool(v) for v in x]
    ones = [i for i, v in enumerate(y) if v]
    if not ones:
        return np.array(y, bool)
    i = ones[0]
    while i < len(y):  # fill gaps shorter than bridge between two speech hops
        if not y[i]:
            j = i
            while j < len(y) and not y[j]:
                j += 1
            if j < len(y) and j - i < bridge:
                for k in range(i, j):
                    y[k] = True
            i = j
        else:
            i += 1
    i = 0
    while i < len(y):  # drop spurts shorter than min_len
        if y[i]:
            j = i
            while j < len(y) and y[j]:
                j += 1
            if j - i < min_len:
                for k in range(i, j):
                    y[k] = False
            i = j
        else:
            i += 1
    return np.array(y, bool)


def test_smoothing_bridges_gaps_and_drops_blips():
    a = vad(6, (0, 1), (1.2, 2), (3.0, 3.1), (4, 4.5), (4.9, 5.5))
    t = dynamics_from_vad(a, np.zeros_like(a))
    flat = [x for span in t.spurts("agent") for x in span]
    assert flat == pytest.approx([0, 2, 4, 4.5, 4.9, 5.5])
    assert t.summary()["talk_s"]["agent"] == pytest.approx(2 + 0.5 + 0.6)


@pytest.mark.parametrize("seed", range(6))
def test_smoother_matches_reference_for_any_chunking(seed):
    rng = np.random.default_rng(seed)
    # bursty random VAD: runs of random lengths
    lengths = rng.integers(1, 60, size=200)
    x = np.repeat(np.arange(200) % 2 == 0, lengths)
    ref = reference_smooth(x, 30, 15)
    sm = SpurtSmoother(30, 15)
    cuts = np.sort(rng.choice(np.arange(1, x.size), size=40, replace=False))
    parts = [sm.feed(c) for c in np.split(x, cuts)] + [sm.flush()]
    np.testing.assert_array_equal(np.concatenate(parts), ref)


def test_overlap_and_agent_interruption():
    cust = vad(8, (0, 3))
    agent = vad(8, (2.5, 5))
    s = dynamics_from_vad(agent, cust).summary()
    assert s["overlap_s"] == pytest.approx(0.5)
    assert s["overlap_count"] == 1
    assert s["interruptions"] == {"agent_interrupts_customer": 1, "customer_interrupts_agent": 0}


def test_turn_end_overlap_is_a_hand_over_not_an_interruption():
    cust = vad(8, (0, 3))
    agent = vad(8, (2.7, 5))  # customer was finishing: only 0.3 s of overlap
    s = dynamics_from_vad(agent, cust).summary()
    assert s["overlap_s"] == pytest.approx(0.3)
    assert s["interruptions"]["agent_interrupts_customer"] == 0
    loose = DynamicsConfig(interrupt_min_overlap_s=0.0)
    assert dynamics_from_vad(agent, cust, config=loose).summary()["interruptions"] == {
        "agent_interrupts_customer": 1,
        "customer_interrupts_agent": 0,
    }


def test_backchannel_is_overlap_but_not_interruption():
    cust = vad(8, (0, 3))
    agent = vad(8, (1.0, 1.3))
    s = dynamics_from_vad(agent, cust).summary()
    assert s["overlap_s"] == pytest.approx(0.3)
    assert s["interruptions"]["agent_interrupts_customer"] == 0
    # a backchannel does not end the customer's turn
    assert s["longest_turn_s"]["customer"] == pytest.approx(3.0)


def test_customer_interrupts_agent_and_slow_yield_does_not_count():
    agent = vad(10, (0, 3))
    cust = vad(10, (2.0, 6))
    s = dynamics_from_vad(agent, cust).summary()
    assert s["interruptions"] == {"agent_interrupts_customer": 0, "customer_interrupts_agent": 1}
    cfg = DynamicsConfig(yield_within_s=0.5)  # agent took 1 s to yield: too slow now
    s2 = dynamics_from_vad(agent, cust, config=cfg).summary()
    assert s2["interruptions"]["customer_interrupts_agent"] == 0
    assert s2["overlap_s"] == pytest.approx(1.0)


def test_dead_air_and_response_latency():
    agent = vad(12, (1, 2), (5.4, 6), (9.0, 10))
    cust = vad(12, (3.5, 5), (6.2, 7))
    t = dynamics_from_vad(agent, cust)
    s = t.summary()
    # silences between speech: 2-3.5 (1.5 s), 7-9 (2.0 s); leading 0-1 and trailing 10-12 excluded
    assert s["dead_air"]["lengths_s"] == pytest.approx([1.5, 2.0])
    # customer end -> agent start: 5.0 -> 5.4 and 7.0 -> 9.0 (agent -> customer gaps not counted)
    assert s["response_latency"]["values_s"] == pytest.approx([0.4, 2.0])
    assert s["response_latency"]["median_s"] == pytest.approx(1.2)
    late = dynamics_from_vad(agent, cust, config=DynamicsConfig(response_max_s=1.0)).summary()
    assert late["response_latency"]["values_s"] == pytest.approx([0.4])


def test_latency_not_counted_when_agent_was_already_talking():
    cust = vad(6, (0, 2))
    agent = vad(6, (1.5, 2.5), (3.0, 4))  # agent overlapped the end, then paused and went on
    s = dynamics_from_vad(agent, cust).summary()
    assert s["response_latency"]["count"] == 0


def test_monologue_joins_short_gaps_and_breaks_on_other_side():
    cfg = DynamicsConfig(monologue_min_s=10.0)
    agent = vad(20, (0, 5), (5.5, 12))
    t = dynamics_from_vad(agent, np.zeros_like(agent), config=cfg)
    assert t.summary()["monologues_s"]["agent"] == pytest.approx([12.0])
    mono = [e for e in t.events if e.kind == "monologue"]
    assert mono[0].t == pytest.approx(0.0) and mono[0].side == "agent"
    # the customer says something in the gap: two turns, neither a monologue
    agent2 = vad(20, (0, 5), (5.9, 12))
    cust2 = vad(20, (5.2, 5.6))
    s2 = dynamics_from_vad(agent2, cust2, config=cfg).summary()
    assert s2["monologues_s"]["agent"] == []
    assert s2["longest_turn_s"]["agent"] == pytest.approx(6.1)
    # a long silence also ends the turn
    agent3 = vad(30, (0, 6), (7.5, 13))
    s3 = dynamics_from_vad(agent3, np.zeros_like(agent3), config=cfg).summary()
    assert s3["monologues_s"]["agent"] == [] and s3["longest_turn_s"]["agent"] == 6.0


def _random_call(rng: np.random.Generator, n_runs: int = 120) -> tuple[np.ndarray, np.ndarray]:
    def side(offset: int) -> np.ndarray:
        lengths = rng.integers(1, 250, size=n_runs)
        x = np.repeat((np.arange(n_runs) + offset) % 2 == 0, lengths)
        return x

    a, c = side(0), side(1)
    n = min(a.size, c.size)
    return a[:n], c[:n]


@pytest.mark.parametrize("seed", range(8))
def test_streaming_equals_whole_call(seed):
    rng = np.random.default_rng(100 + seed)
    a, c = _random_call(rng)
    cfg = DynamicsConfig(monologue_min_s=3.0)
    whole = dynamics_from_vad(a, c, config=cfg)
    tr = DynamicsTracker(HOP, cfg)
    cuts = np.sort(rng.choice(np.arange(1, a.size), size=60, replace=False))
    streamed = []
    for ca, cc in zip(np.split(a, cuts), np.split(c, cuts), strict=True):
        streamed += tr.feed(ca, cc)
    streamed += tr.flush()
    assert streamed == whole.events
    assert tr.summary() == whole.summary()
    assert whole.summary()["overlap_count"] > 0  # the random call exercises the logic


def test_streaming_sides_may_arrive_unevenly():
    rng = np.random.default_rng(7)
    a, c = _random_call(rng, 40)
    whole = dynamics_from_vad(a, c)
    tr = DynamicsTracker(HOP)
    half = a.size // 2
    tr.feed(a[:half], c[:10])
    tr.feed(a[half:], c[10:])
    tr.flush()
    assert tr.events == whole.events


def test_overlap_total_matches_direct_count_of_smoothed_masks():
    rng = np.random.default_rng(3)
    a, c = _random_call(rng)
    t = dynamics_from_vad(a, c)
    sa = reference_smooth(a, 30, 15)
    sc = reference_smooth(c, 30, 15)
    s = t.summary()
    assert s["overlap_s"] == pytest.approx(np.sum(sa & sc) * HOP, abs=1e-6)
    assert s["talk_s"]["agent"] == pytest.approx(np.sum(sa) * HOP)
    assert s["spurts"]["customer"] == int(np.sum(np.diff(sc.astype(int)) == 1) + sc[0])
