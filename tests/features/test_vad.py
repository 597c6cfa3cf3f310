"""The streaming energy VAD on level sequences."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.features.config import FeatureConfig
from edge.features.vad import VoiceActivityDetector

CFG = FeatureConfig()


def run(levels_db: np.ndarray, cuts: list[int] | None = None) -> np.ndarray:
    vad = VoiceActivityDetector(CFG)
    power = 10.0 ** (levels_db / 10.0)
    bounds = [0, *(cuts or []), len(levels_db)]
    return np.concatenate(
        [vad.update(power[a:b], levels_db[a:b]) for a, b in itertools.pairwise(bounds)]
    )


def test_speech_above_noise_with_exact_hangover() -> None:
    levels = np.full(400, -70.0)
    levels[100:200] = -30.0
    flags = run(levels)
    hang = round(CFG.vad_hangover_s / CFG.hop_s)
    assert not flags[:100].any()
    assert flags[100:200].all()
    assert flags[200 : 200 + hang].all()
    assert not flags[200 + hang :].any()


def test_absolute_floor_and_margin() -> None:
    quiet = np.full(300, -90.0)
    quiet[50:100] = -60.0  # 30 dB above the floor but below vad_floor_dbfs
    assert not run(quiet).any()
    hum = np.full(300, -50.0)
    hum[50:100] = -50.0 + CFG.vad_margin_db - 1.0  # above the absolute floor, too little margin
    hum[200:250] = -50.0 + CFG.vad_margin_db + 1.0
    flags = run(hum)
    assert not flags[:200].any()
    assert flags[200:250].all()


def test_floor_follows_a_louder_background() -> None:
    # Quiet, then a steady -40 dBFS hum: speech-like at first, no longer once the floor catches up.
    levels = np.concatenate([np.full(100, -80.0), np.full(600, -40.0)])
    flags = run(levels)
    assert flags[100]
    window_hops = round(3.0 / CFG.hop_s)
    assert not flags[100 + window_hops + 30 :].any()


def test_first_hop_is_not_speech_and_floor_is_reported() -> None:
    vad = VoiceActivityDetector(CFG)
    assert not vad.update(np.array([1e-3]), np.array([-30.0]))[0]
    assert vad.noise_floor_db == -30.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 499), max_size=8, unique=True), st.integers(0, 2**31))
def test_block_size_does_not_matter(cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    levels = np.repeat(rng.uniform(-90, -20, 50), 10)
    np.testing.assert_array_equal(run(levels), run(levels, sorted(cuts)))
