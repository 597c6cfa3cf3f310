"""SpeechGate on hand-made flag sequences: look-back/look-ahead and block-size invariance."""

from __future__ import annotations

import itertools

import numpy as np

from edge.features.config import FeatureConfig
from edge.features.speech_gate import SpeechGate

CFG = FeatureConfig()


def gate_all(energetic: np.ndarray, voiced: np.ndarray, ahead: int, cuts: list[int]) -> np.ndarray:
    """Feed rows in pieces as the front-end does: each piece with the next ``ahead`` anchors."""
    g = SpeechGate(CFG, ahead)
    anchor = energetic & voiced
    out = []
    bounds = [0, *cuts, len(energetic)]
    for a, b in itertools.pairwise(bounds):
        out.append(g.gate(energetic[a:b], voiced[a:b], anchor[b : b + ahead]))
    return np.concatenate(out)


def test_window_reaches_back_and_ahead_only_over_energetic_hops() -> None:
    n = 200
    energetic = np.zeros(n, bool)
    energetic[50:150] = True
    voiced = np.zeros(n, bool)
    voiced[100] = True
    g = SpeechGate(CFG, ahead=6)
    got = gate_all(energetic, voiced, 6, [])
    expect = np.zeros(n, bool)
    expect[100 - 6 : 100 + g.back + 1] = True
    expect &= energetic
    np.testing.assert_array_equal(got, expect)


def test_unvoiced_energy_alone_is_never_speech() -> None:
    energetic = np.ones(300, bool)
    assert not gate_all(energetic, np.zeros(300, bool), 6, [7, 100]).any()


def test_block_size_does_not_matter() -> None:
    rng = np.random.default_rng(3)
    energetic = rng.random(1000) < 0.6
    voiced = rng.random(1000) < 0.05
    whole = gate_all(energetic, voiced, 6, [])
    for cuts in ([1, 2, 3, 500], list(range(10, 1000, 37)), [999]):
        np.testing.assert_array_equal(gate_all(energetic, voiced, 6, cuts), whole)
