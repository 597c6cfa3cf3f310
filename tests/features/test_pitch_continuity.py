"""The pitch tracker's continuity step: octave errors of a few frames are repaired against the
neighbours' median, real pitch changes and voicing are left alone, and the result stays the same
however the frames are cut into calls (given the context rows)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.features import pitch_continuity
from edge.features.config import FeatureConfig
from edge.features.pitch import PitchTracker
from edge.features.pitch_continuity import CONTEXT_HOPS, choose, neighbour_median
from tests.features.test_pitch import HOP, SR, centred_frames, harmonic

INF = np.float32(np.inf)


@pytest.fixture(scope="module")
def tracker() -> PitchTracker:
    return PitchTracker(FeatureConfig())


@pytest.mark.parametrize("seed", range(5))
def test_neighbour_median_is_the_nan_median_of_each_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(7.0, 1.0, 60).astype(np.float32)
    x[rng.random(60) < 0.4] = np.nan
    x[:4] = np.nan  # a window with nothing in it at the start
    got = neighbour_median(x, 3)
    padded = np.concatenate([np.full(3, np.nan), x, np.full(3, np.nan)])
    for i in range(len(x)):
        win = padded[i : i + 7]
        if np.isfinite(win).any():
            assert got[i] == pytest.approx(float(np.nanmedian(win)), rel=1e-6)
        else:
            assert np.isnan(got[i])


def _candidates(periods: list[list[float]], strengths: list[list[float]]) -> tuple[np.ndarray, ...]:
    """Candidate arrays as the tracker hands them over: strongest first."""
    p = np.array(periods, np.float32)
    s = np.array(strengths, np.float32)
    order = np.argsort(-s, axis=1)
    return np.take_along_axis(p, order, 1), np.take_along_axis(s, order, 1)


def test_isolated_octave_jump_goes_back_to_the_neighbours_octave() -> None:
    # Ten frames at a period of 100 samples (each also has a weaker peak at 200); frame 5's
    # strongest peak is the half period (an octave-up error) with 100 nearly as strong.
    periods = [[100.0, 200.0]] * 10
    strengths = [[0.9, 0.7]] * 10
    periods[5] = [50.0, 100.0]
    strengths[5] = [0.92, 0.88]
    p, s = _candidates(periods, strengths)
    out = choose(p, s, np.ones(10, bool))
    np.testing.assert_array_equal(out, np.full(10, 100.0, np.float32))
    # Without a nearby alternative it stays: the frame has no other octave to offer.
    p[5, 1], s[5, 1] = 50.5, 0.5
    assert choose(p, s, np.ones(10, bool))[5] == 50.0


def test_a_real_octave_change_and_unvoiced_frames_are_kept() -> None:
    periods = [[100.0, 200.0]] * 8 + [[50.0, 100.0]] * 8
    strengths = [[0.9, 0.8]] * 16
    p, s = _candidates(periods, strengths)
    voiced = np.ones(16, bool)
    np.testing.assert_array_equal(choose(p, s, voiced), p[:, 0])
    # An unvoiced frame keeps its strongest peak and is no neighbour of the others.
    p[3] = [50.0, 100.0]
    voiced[3] = False
    assert choose(p, s, voiced)[3] == 50.0
    # Missing candidates (NaN / -inf) are never chosen.
    p[10, 1], s[10, 1] = np.nan, -INF
    assert choose(p, s, np.ones(16, bool))[10] == 50.0


def _period_doubled(seconds: float, burst_s: float, depth: float = 0.5) -> np.ndarray:
    """A 200 Hz harmonic tone whose odd cycles are ``depth`` quieter during ``burst_s`` from
    0.5 s on (period doubling: a 100 Hz subharmonic, as in creak or diplophonia)."""
    t = np.arange(int(seconds * SR)) / SR
    sig = harmonic(200.0, seconds, amp=0.3)
    odd = np.floor(200.0 * t).astype(int) % 2 == 1
    sig[(t >= 0.5) & (t < 0.5 + burst_s) & odd] *= 1.0 - depth
    return sig


def test_a_short_subharmonic_burst_is_repaired(
    tracker: PitchTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = centred_frames(_period_doubled(1.0, 0.02), tracker.frame_length)
    f0 = tracker.analyze(frames).f0_hz
    assert np.all(np.abs(f0[5:-5] / 200.0 - 1) < 0.01)
    # Without the continuity step the same frames read an octave down (the error it repairs).
    monkeypatch.setattr(pitch_continuity, "JUMP_COST", 0.0)
    raw = tracker.analyze(frames).f0_hz
    assert np.sum(np.abs(raw / 100.0 - 1) < 0.02) >= 2


def test_a_sustained_subharmonic_is_not_smoothed_away(tracker: PitchTracker) -> None:
    # 60 ms (6 hops) of period doubling is more than the window can outvote: it is reported.
    f0 = tracker.analyze(centred_frames(_period_doubled(1.0, 0.06), tracker.frame_length)).f0_hz
    assert np.sum(np.abs(f0 / 100.0 - 1) < 0.02) >= 4


def test_calls_with_context_rows_give_the_whole_sequence(tracker: PitchTracker) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(3 * SR) / SR
    sig = harmonic(110.0 + 90.0 * np.sin(2 * np.pi * 0.9 * t), 3.0, amp=0.3)
    sig = sig * (np.sin(2 * np.pi * 1.7 * t) > -0.2) + 0.05 * rng.standard_normal(len(t))
    frames = centred_frames(sig, tracker.frame_length)
    whole = tracker.analyze(frames)
    c = tracker.context_hops
    assert c == CONTEXT_HOPS
    zeros = np.zeros((c, tracker.frame_length), np.float32)
    padded = np.concatenate([zeros, frames, zeros])  # no hop before or after: silent rows
    for size in (1, 5, 37, 200):
        parts = [
            tracker.analyze(padded[a : min(a + size, len(frames)) + 2 * c], context=c)
            for a in range(0, len(frames), size)
        ]
        for name in ("f0_hz", "voicing", "jitter", "shimmer"):
            got = np.concatenate([getattr(p, name) for p in parts])
            np.testing.assert_array_equal(got, getattr(whole, name), err_msg=f"{name} {size}")
    with pytest.raises(ValueError):
        tracker.analyze(frames[:5], context=3)
    assert len(tracker.analyze(frames[:6], context=3)) == 0


def test_front_end_streams_the_same_f0_as_one_call_over_the_file(tracker: PitchTracker) -> None:
    from edge.features.frontend import FrontEnd

    rng = np.random.default_rng(11)
    t = np.arange(2 * SR) / SR
    sig = harmonic(100.0 + 120.0 * np.sin(2 * np.pi * 1.1 * t), 2.0, amp=0.3)
    sig = (sig * (np.sin(2 * np.pi * 2.3 * t) > 0.1) + 0.03 * rng.standard_normal(len(t))).astype(
        np.float32
    )
    sig[:400] += 0.3 * sig[400:800]  # voiced from the first hop: the stream start is context
    frames = centred_frames(sig, tracker.frame_length)
    frames -= frames.mean(axis=1, keepdims=True)
    whole = tracker.analyze(frames).f0_hz
    fe = FrontEnd(FeatureConfig(), learned_syllables=False)
    cuts = np.sort(rng.choice(len(sig), 40, replace=False))
    got = [fe.process(part).f0_hz for part in np.split(sig, cuts)]
    got.append(fe.flush().f0_hz)
    # Same voiced frames and F0 up to float rounding of the DC removal (an octave is 100 %).
    np.testing.assert_allclose(np.concatenate(got), whole, rtol=1e-5, equal_nan=True)


def test_front_end_analyses_each_pitch_frame_once() -> None:
    """The context frames' candidates are kept between calls, not analysed again: a stream of
    N hops costs N + 2 * context candidate rows (the zero rows before and after included)."""
    from edge.features.frontend import FrontEnd

    class Counting(PitchTracker):
        rows = 0

        def candidates(self, frames: np.ndarray) -> np.ndarray:
            Counting.rows += len(frames)
            return super().candidates(frames)

    sig = harmonic(150.0, 1.0, amp=0.3).astype(np.float32)
    fe = FrontEnd(FeatureConfig(), Counting(FeatureConfig()), learned_syllables=False)
    hops = sum(len(fe.process(part).f0_hz) for part in np.array_split(sig, 37))
    hops += len(fe.flush().f0_hz)
    assert hops == -(-len(sig) // HOP)
    assert Counting.rows == hops + 2 * CONTEXT_HOPS
