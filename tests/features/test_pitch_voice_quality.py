"""Jitter and shimmer on pulse trains with known, injected period and amplitude perturbations."""

from __future__ import annotations

import numpy as np
import pytest

from edge.features.config import FeatureConfig
from edge.features.pitch import PitchTracker
from edge.features.voice_quality import cycle_peaks, jitter_shimmer

SR = 16_000
HOP = 160


def centred_frames(sig: np.ndarray, length: int) -> np.ndarray:
    n = len(sig) // HOP
    pad = np.pad(np.asarray(sig, np.float64), (length, length))
    starts = np.arange(n) * HOP + HOP // 2 - length // 2 + length
    return pad[starts[:, None] + np.arange(length)[None, :]].astype(np.float32)


def pulse_train(
    f0: float, seconds: float, jitter: float = 0.0, shimmer: float = 0.0, sigma_s: float = 3e-4
) -> np.ndarray:
    """Zero-mean pulses (a narrow Gaussian minus a 4x wider one of equal area) whose periods
    alternate ``T0 (1 +- jitter/2)`` and amplitudes ``1 +- shimmer/2``: local jitter is exactly
    ``jitter`` and local shimmer ``shimmer``."""
    n_pulses = int(seconds * f0) + 2
    sign = np.where(np.arange(n_pulses) % 2 == 0, 1.0, -1.0)
    periods = (1.0 + sign * jitter / 2) / f0
    times = np.cumsum(periods)
    amps = 0.5 * (1.0 + sign * shimmer / 2)
    t = np.arange(int(seconds * SR)) / SR
    k = np.clip(np.searchsorted(times, t), 1, n_pulses - 2)
    sig = np.zeros_like(t)
    for off in (-1, 0, 1):  # the three nearest pulses (they are far apart vs sigma)
        j = k + off
        z = (t - times[j]) / sigma_s
        sig += amps[j] * (np.exp(-0.5 * z**2) - 0.25 * np.exp(-0.5 * (z / 4) ** 2))
    return sig


def vowel_like(sig: np.ndarray) -> np.ndarray:
    """The pulse train through two damped resonances (F1 600 Hz, F2 1400 Hz)."""
    from scipy.signal import lfilter

    out = sig
    for freq, bw in ((600.0, 120.0), (1400.0, 200.0)):
        r = np.exp(-np.pi * bw / SR)
        a = [1.0, -2 * r * np.cos(2 * np.pi * freq / SR), r * r]
        out = lfilter([1.0 - r], a, out)
    return out / np.max(np.abs(out)) * 0.5


@pytest.fixture(scope="module")
def tracker() -> PitchTracker:
    return PitchTracker(FeatureConfig())


@pytest.mark.parametrize("f0", [100.0, 150.0, 220.0])
def test_clean_pulse_train_has_near_zero_jitter_and_shimmer(
    tracker: PitchTracker, f0: float
) -> None:
    r = tracker.analyze(centred_frames(pulse_train(f0, 1.0), tracker.frame_length))
    mid = slice(5, len(r) - 5)
    assert np.all(np.isfinite(r.jitter[mid]))
    assert np.nanmax(r.jitter[mid]) < 0.003
    assert np.nanmax(r.shimmer[mid]) < 0.01


@pytest.mark.parametrize("f0", [100.0, 150.0, 220.0])
def test_injected_jitter_and_shimmer_are_read_back(tracker: PitchTracker, f0: float) -> None:
    sig = pulse_train(f0, 1.0, jitter=0.02, shimmer=0.10)
    r = tracker.analyze(centred_frames(sig, tracker.frame_length))
    mid = slice(5, len(r) - 5)
    assert np.nanmedian(r.jitter[mid]) == pytest.approx(0.02, abs=0.004)
    assert np.nanmedian(r.shimmer[mid]) == pytest.approx(0.10, abs=0.015)


def test_vowel_like_signal_jitter(tracker: PitchTracker) -> None:
    clean = vowel_like(pulse_train(120.0, 1.0))
    jit = vowel_like(pulse_train(120.0, 1.0, jitter=0.02, shimmer=0.10))
    rc = tracker.analyze(centred_frames(clean, tracker.frame_length))
    rj = tracker.analyze(centred_frames(jit, tracker.frame_length))
    mid = slice(5, len(rc) - 5)
    assert np.nanmedian(rc.jitter[mid]) < 0.004
    assert np.nanmedian(rc.shimmer[mid]) < 0.02
    assert np.nanmedian(rj.jitter[mid]) == pytest.approx(0.02, abs=0.006)
    assert np.nanmedian(rj.shimmer[mid]) == pytest.approx(0.10, abs=0.03)


def test_cycle_peaks_found_at_pulse_times() -> None:
    f0 = 125.0  # period 128 samples
    sig = pulse_train(f0, 0.1)
    frame = sig[200:740][None, :].astype(np.float32)
    row, t, amp = cycle_peaks(frame, np.array([SR / f0]))
    assert np.all(row == 0) and len(t) >= 3
    np.testing.assert_allclose(np.diff(t), 128.0, atol=0.05)
    np.testing.assert_allclose(amp, 0.5 * 0.75, rtol=0.01)


def test_unusable_periods_give_nan() -> None:
    x = np.random.default_rng(0).standard_normal((3, 540)).astype(np.float32)
    jit, shim = jitter_shimmer(x, np.array([np.nan, 1.0, np.nan]))
    assert np.all(np.isnan(jit)) and np.all(np.isnan(shim))
    jit, shim = jitter_shimmer(x[:0], np.zeros(0))
    assert jit.shape == (0,) and shim.shape == (0,)


def test_box_sum_matches_direct_sums() -> None:
    from edge.features.voice_quality import box_sum

    x = np.random.default_rng(3).standard_normal((4, 60))
    for width in (1, 2, 3, 6, 13):
        direct = np.stack([x[:, j : j + width].sum(axis=1) for j in range(60 - width + 1)], 1)
        np.testing.assert_allclose(box_sum(x, width), direct, atol=1e-12)
