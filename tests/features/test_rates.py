"""Trailing-window speech/articulation rate, pitch SD and pauses."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.features.config import FeatureConfig
from edge.features.rates import MIN_VOICED_HOPS_FOR_SD, TempoFrames, TempoTracker
from edge.features.syllables import MICRO

CFG = FeatureConfig()
WINDOW = round(CFG.rate_window_s / CFG.hop_s)


def run(nuc: np.ndarray, vad: np.ndarray, f0_st: np.ndarray, cuts: list[int] | None = None):
    tr = TempoTracker(CFG)
    bounds = [0, *(cuts or []), len(nuc)]
    micro = np.asarray(nuc).astype(np.int64) * MICRO  # a flag is one syllable
    parts = [tr.update(micro[a:b], vad[a:b], f0_st[a:b]) for a, b in itertools.pairwise(bounds)]
    return TempoFrames(
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in TempoFrames.__dataclass_fields__
        )
    )


def test_rates_once_the_window_is_full() -> None:
    n = 2 * WINDOW
    nuc = np.zeros(n, bool)
    nuc[::25] = True  # every 250 ms: 4 syllables per second
    vad = np.zeros(n, bool)
    vad[(np.arange(n) // 50) % 2 == 0] = True  # speech half of the time
    nuc &= vad
    out = run(nuc, vad, np.full(n, np.nan, np.float32))
    full = slice(WINDOW, None)
    np.testing.assert_allclose(out.speech_rate_sps[full], 2.0, atol=0.25)
    np.testing.assert_allclose(out.articulation_rate_sps[full], 4.0, atol=0.5)
    # At the start the window is only as long as what was heard.
    assert out.speech_rate_sps[0] == 1.0 / CFG.hop_s
    assert np.isnan(out.articulation_rate_sps[vad.argmin()]) == (not vad[: vad.argmin()].any())


def test_articulation_rate_is_nan_without_speech() -> None:
    out = run(np.zeros(30, bool), np.zeros(30, bool), np.full(30, np.nan, np.float32))
    assert np.isnan(out.articulation_rate_sps).all()
    assert (out.speech_rate_sps == 0).all()


def test_pitch_sd() -> None:
    n = 100
    f0 = np.where(np.arange(n) % 2 == 0, 40.0, 44.0).astype(np.float32)
    f0[:10] = np.nan
    out = run(np.zeros(n, bool), np.ones(n, bool), f0)
    voiced_so_far = np.cumsum(np.isfinite(f0))
    enough = voiced_so_far >= MIN_VOICED_HOPS_FOR_SD
    assert np.isnan(out.pitch_sd_st[~enough]).all()
    np.testing.assert_allclose(out.pitch_sd_st[enough], 2.0, atol=0.11)
    flat = run(np.zeros(50, bool), np.ones(50, bool), np.full(50, 30.0, np.float32))
    np.testing.assert_allclose(flat.pitch_sd_st[MIN_VOICED_HOPS_FOR_SD:], 0.0, atol=1e-6)


def test_pauses_inside_speech_only() -> None:
    vad = np.zeros(200, bool)
    vad[30:50] = True  # leading silence before: not a pause
    vad[80:100] = True  # 30 hops after speech: a 0.30 s pause ends at 80
    vad[110:120] = True  # 10 hops: shorter than min_pause_s
    vad[145:150] = True  # 25 hops: exactly min_pause_s
    out = run(np.zeros(200, bool), vad, np.full(200, np.nan, np.float32))
    nonzero = np.flatnonzero(out.pause_s)
    assert nonzero.tolist() == [80, 145]
    np.testing.assert_allclose(out.pause_s[nonzero], [0.30, 0.25], atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 1199), max_size=8, unique=True), st.integers(0, 2**31))
def test_block_size_does_not_matter(cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1200
    vad = np.repeat(rng.random(n // 20) < 0.6, 20)
    nuc = vad & (rng.random(n) < 0.1)
    f0 = np.where(vad & (rng.random(n) < 0.8), rng.uniform(30, 50, n), np.nan).astype(np.float32)
    a, b = run(nuc, vad, f0), run(nuc, vad, f0, sorted(cuts))
    for name in TempoFrames.__dataclass_fields__:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-5, equal_nan=True)
