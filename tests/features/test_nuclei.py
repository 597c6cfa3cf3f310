"""Syllable nuclei from intensity, voicing and VAD."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.features.config import FeatureConfig
from edge.features.nuclei import MIN_DIP_DB, NucleusDetector

CFG = FeatureConfig()


def bumps(rate_hz: float, seconds: float, depth_db: float = 20.0) -> np.ndarray:
    t = np.arange(round(seconds / CFG.hop_s)) * CFG.hop_s
    env_db = -60.0 + depth_db * np.clip(np.sin(2 * np.pi * rate_hz * t), 0.0, None)
    return np.asarray(10.0 ** (env_db / 10.0))


def detect(power: np.ndarray, eligible: np.ndarray, cuts: list[int] | None = None) -> np.ndarray:
    det = NucleusDetector(CFG)
    bounds = [0, *(cuts or []), len(power)]
    parts = [
        det.push(power[a:b], eligible[a:b], np.ones(b - a, bool))
        for a, b in itertools.pairwise(bounds)
    ]
    return np.concatenate([*parts, det.finish()])


def test_one_nucleus_per_syllable() -> None:
    for rate in (2.0, 4.0, 6.0):
        power = bumps(rate, 5.0)
        nuc = detect(power, np.ones(len(power), bool))
        assert len(nuc) == len(power)
        assert abs(int(nuc.sum()) - 5 * rate) <= 1, rate
        # Each nucleus sits at the top of a bump (sin peak at (k + 1/4)/rate).
        phase = (np.flatnonzero(nuc) * CFG.hop_s * rate) % 1.0
        assert np.all(np.abs(phase - 0.25) < 0.06)


def test_unvoiced_or_flat_gives_none() -> None:
    power = bumps(4.0, 3.0)
    assert not detect(power, np.zeros(len(power), bool)).any()
    shallow = bumps(4.0, 3.0, depth_db=0.75 * MIN_DIP_DB)
    nuc = detect(shallow, np.ones(len(shallow), bool))
    assert nuc.sum() <= 1  # only the first, whose dip is the silence before the stream


def test_lookahead_holds_back_decisions() -> None:
    det = NucleusDetector(CFG)
    power = bumps(4.0, 1.0)
    out = det.push(power, np.ones(len(power), bool), np.ones(len(power), bool))
    assert len(out) == len(power) - det.lookahead
    assert len(det.finish()) == det.lookahead


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 299), max_size=10, unique=True), st.integers(0, 2**31))
def test_block_size_does_not_matter(cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    power = 10.0 ** (rng.uniform(-9, -3, 300) / 1.0)
    eligible = rng.random(300) < 0.7
    np.testing.assert_array_equal(detect(power, eligible), detect(power, eligible, sorted(cuts)))


def test_intensity_reads_mean_square_and_barely_wobbles_at_low_f0() -> None:
    det = NucleusDetector(CFG)
    sr, n = CFG.sample_rate, det.frame_length
    t = np.arange(3 * sr) / sr
    sine = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(sine, n)[:: CFG.hop]
    np.testing.assert_allclose(det.intensity(frames), 0.125, rtol=0.02)
    for f0 in (60.0, 95.0, 110.0):
        k = np.arange(1, 9)[:, None]
        tone = (np.sin(2 * np.pi * f0 * k * t[None, :]) / k).sum(axis=0).astype(np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(tone, n)[:: CFG.hop]
        db = 10 * np.log10(det.intensity(frames))
        assert np.ptp(db) < 0.75, f0
        # A steady voiced tone is not a train of syllables.
        eligible = np.ones(len(db), bool)
        assert detect(det.intensity(frames), eligible).sum() <= 1, f0
    assert (det.intensity(np.zeros((2, n), np.float32)) > 0).all()
