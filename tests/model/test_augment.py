"""Augmentation: telephone band, mu-law, seeded determinism, speed."""

from __future__ import annotations

import numpy as np

from models.augment import VARIANTS, augment, change_speed, mu_law_round_trip, telephone

SR = 16_000


def _band_energy(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(spec[(f >= lo) & (f < hi)].sum())


def test_telephone_keeps_the_voice_band_only() -> None:
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    y = telephone(x, SR)
    assert y.shape == x.shape and y.dtype == np.float32
    inband = _band_energy(y, 500, 3000) / _band_energy(x, 500, 3000)
    assert inband > 0.5
    assert _band_energy(y, 4200, 8000) / _band_energy(x, 4200, 8000) < 1e-3
    assert _band_energy(y, 20, 150) / _band_energy(x, 20, 150) < 0.05


def test_mu_law_is_close_but_quantised() -> None:
    x = np.linspace(-0.9, 0.9, 10_001).astype(np.float32)
    y = mu_law_round_trip(x)
    assert np.max(np.abs(y - x)) < 0.02
    assert len(np.unique(y)) <= 256


def test_seeded_and_distinct() -> None:
    x = (0.1 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)).astype(np.float32)
    for v in VARIANTS[1:]:
        a = augment(x, SR, v, np.random.default_rng(5))
        b = augment(x, SR, v, np.random.default_rng(5))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a[: len(x)], x[: len(a)])
    assert len(change_speed(x, SR, 1.05)) < len(x) < len(change_speed(x, SR, 0.95))
