"""PitchTracker on synthetic signals with known F0 (voicing, edge cases, batching)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from edge.features.config import FeatureConfig
from edge.features.pitch import PitchFrames, PitchTracker

SR = 16_000
HOP = 160


@pytest.fixture(scope="module")
def tracker() -> PitchTracker:
    return PitchTracker(FeatureConfig())


def centred_frames(sig: np.ndarray, length: int) -> np.ndarray:
    """Zero-padded frames of ``length`` samples centred on each 10 ms hop's centre."""
    n = len(sig) // HOP
    pad = np.pad(np.asarray(sig, np.float64), (length, length))
    starts = np.arange(n) * HOP + HOP // 2 - length // 2 + length
    return pad[starts[:, None] + np.arange(length)[None, :]].astype(np.float32)


def harmonic(f0: float | np.ndarray, seconds: float, amp: float = 0.5) -> np.ndarray:
    """Sum of 8 harmonics with 1/k amplitudes, peak about ``amp``; ``f0`` may vary per sample."""
    n = int(seconds * SR)
    f = np.broadcast_to(np.asarray(f0, np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f) / SR
    sig = np.sum([np.sin(k * phase) / k for k in range(1, 9)], axis=0)
    return amp * sig / np.max(np.abs(sig))


def interior(r: PitchFrames, margin: int = 5) -> slice:
    return slice(margin, len(r) - margin)


def run(tracker: PitchTracker, sig: np.ndarray) -> PitchFrames:
    return tracker.analyze(centred_frames(sig, tracker.frame_length))


@pytest.mark.parametrize("f0", [80.0, 150.0, 220.0, 400.0])
def test_harmonic_tone_f0_within_1_percent(tracker: PitchTracker, f0: float) -> None:
    r = run(tracker, harmonic(f0, 1.0))
    mid = r.f0_hz[interior(r)]
    assert np.all(np.isfinite(mid))
    assert np.max(np.abs(mid / f0 - 1)) < 0.01
    assert np.min(r.voicing[interior(r)]) > 0.9


def test_pure_sine_and_missing_fundamental(tracker: PitchTracker) -> None:
    t = np.arange(SR) / SR
    r = run(tracker, 0.5 * np.sin(2 * np.pi * 123.0 * t))
    assert np.nanmedian(r.f0_hz) == pytest.approx(123.0, rel=0.01)
    # Harmonics 2..6 of 110 Hz without the fundamental: the period is still 1/110 s.
    sig = 0.1 * np.sum([np.sin(2 * np.pi * 110.0 * k * t) for k in range(2, 7)], axis=0)
    r = run(tracker, sig)
    assert np.nanmedian(r.f0_hz[interior(r)]) == pytest.approx(110.0, rel=0.01)


def test_gliding_f0_tracked_within_2_percent(tracker: PitchTracker) -> None:
    seconds = 2.0
    t = np.arange(int(seconds * SR)) / SR
    f_inst = 100.0 * 3.0 ** (t / seconds)  # exponential glide 100 -> 300 Hz
    r = run(tracker, harmonic(f_inst, seconds))
    centres = (np.arange(len(r)) * HOP + HOP // 2) / SR
    truth = 100.0 * 3.0 ** (centres / seconds)
    sl = interior(r)
    assert np.all(np.isfinite(r.f0_hz[sl]))
    assert np.max(np.abs(r.f0_hz[sl] / truth[sl] - 1)) < 0.02


def test_silence_is_unvoiced_without_warnings(tracker: PitchTracker) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = run(tracker, np.zeros(SR))
    assert np.all(np.isnan(r.f0_hz))
    assert np.all(r.voicing == 0)
    assert np.all(np.isnan(r.jitter)) and np.all(np.isnan(r.shimmer))


def test_white_noise_is_unvoiced(tracker: PitchTracker) -> None:
    noise = np.random.default_rng(1).standard_normal(3 * SR) * 0.1
    r = run(tracker, noise)
    assert np.mean(np.isfinite(r.f0_hz)) < 0.02
    assert np.median(r.voicing) < 0.4


def test_dc_offset_does_not_change_f0(tracker: PitchTracker) -> None:
    r = run(tracker, harmonic(180.0, 1.0, amp=0.4) + 0.5)
    mid = r.f0_hz[interior(r)]
    assert np.all(np.isfinite(mid))
    assert np.max(np.abs(mid / 180.0 - 1)) < 0.01


def test_clipped_tone_keeps_f0(tracker: PitchTracker) -> None:
    sig = np.clip(harmonic(140.0, 1.0, amp=4.0), -1.0, 1.0)
    r = run(tracker, sig)
    mid = r.f0_hz[interior(r)]
    assert np.all(np.isfinite(mid))
    assert np.max(np.abs(mid / 140.0 - 1)) < 0.01


def test_low_level_tone_still_voiced(tracker: PitchTracker) -> None:
    # -40 dBFS RMS: a sine with RMS 0.01 (peak 0.0141).
    t = np.arange(SR) / SR
    sig = np.sqrt(2) * 0.01 * harmonic(200.0, 1.0, amp=1.0)
    sig *= 0.01 / np.sqrt(np.mean(sig**2))
    assert 20 * np.log10(np.sqrt(np.mean(sig**2))) == pytest.approx(-40.0, abs=0.1)
    r = run(tracker, sig)
    mid = r.f0_hz[interior(r)]
    assert np.all(np.isfinite(mid))
    assert np.max(np.abs(mid / 200.0 - 1)) < 0.01
    del t


def test_batch_invariance(tracker: PitchTracker) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(3 * SR) / SR
    sig = harmonic(120.0 + 60.0 * np.sin(2 * np.pi * 0.7 * t), 3.0, amp=0.3)
    sig = sig * (np.sin(2 * np.pi * 1.3 * t) > -0.3) + 0.02 * rng.standard_normal(len(t))
    frames = centred_frames(sig, tracker.frame_length)
    whole = tracker.analyze(frames)
    assert 0.2 < np.mean(np.isfinite(whole.f0_hz)) < 0.95
    # Bit-identical: every step works row by row (no BLAS products, whose rounding depends on
    # the batch shape), given each call its neighbours' frames (zeros beyond the ends).
    c = tracker.context_hops
    zeros = np.zeros((c, tracker.frame_length), np.float32)
    padded = np.concatenate([zeros, frames, zeros])
    one_by_one = [tracker.analyze(padded[i : i + 1 + 2 * c], c) for i in range(len(frames))]
    parts = [
        tracker.analyze(padded[a : min(a + 37, len(frames)) + 2 * c], c)
        for a in range(0, len(frames), 37)
    ]
    for name in ("f0_hz", "voicing", "jitter", "shimmer"):
        single = np.concatenate([getattr(p, name) for p in one_by_one])
        np.testing.assert_array_equal(single, getattr(whole, name), err_msg=name)
        chunked = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(chunked, getattr(whole, name), err_msg=name)


def test_output_types_and_shape_check(tracker: PitchTracker) -> None:
    r = tracker.analyze(np.zeros((0, tracker.frame_length), np.float32))
    assert len(r) == 0
    r = run(tracker, harmonic(150.0, 0.2))
    for arr in (r.f0_hz, r.voicing, r.jitter, r.shimmer):
        assert arr.dtype == np.float32 and arr.shape == (20,)
    assert np.all((r.voicing >= 0) & (r.voicing <= 1))
    with pytest.raises(ValueError):
        tracker.analyze(np.zeros((3, tracker.frame_length + 1), np.float32))


def test_frame_length_covers_two_lowest_periods() -> None:
    cfg = FeatureConfig()
    tr = PitchTracker(cfg)
    assert tr.frame_length >= 2 * SR / cfg.f0_min_hz
    assert tr.frame_length <= 0.05 * SR


def test_steep_amplitude_modulation_gives_no_subharmonic(tracker: PitchTracker) -> None:
    # Envelope swinging 40 dB four times a second: inside a window the level ramps steeply,
    # which inflates the normalised autocorrelation at long lags (2 T0) above 1.
    t = np.arange(2 * SR) / SR
    env = np.maximum((0.5 - 0.5 * np.cos(2 * np.pi * 4.0 * t)) ** 4, 0.01)
    r = run(tracker, harmonic(140.0, 2.0, amp=0.4) * env)
    f0 = r.f0_hz[np.isfinite(r.f0_hz)]
    assert len(f0) > 0.9 * len(r)
    assert np.max(np.abs(f0 / 140.0 - 1)) < 0.01


def test_agrees_with_praat_on_emodb_speech(tracker: PitchTracker) -> None:
    """Real speech: three EmoDB files (a male and two female speakers) against Praat's
    autocorrelation pitch, read at our hop centres (nearest Praat frame)."""
    parselmouth = pytest.importorskip("parselmouth")
    soxr = pytest.importorskip("soxr")
    from edge.errors import InputError
    from models.emodb import utterances

    try:
        utts = {u.stem: u for u in utterances()}
    except InputError:
        pytest.skip("EmoDB corpus not available")
    stems = [s for s in ("03a01Fa", "08a01Ab", "16a01Wb") if s in utts]
    if not stems:
        pytest.skip("EmoDB files not found")
    ours, ref = [], []
    for stem in stems:
        x, sr = utts[stem].read()
        y = soxr.resample(x, sr, SR).astype(np.float32)
        r = run(tracker, y)
        pitch = parselmouth.Sound(y.astype(np.float64), SR).to_pitch_ac(
            time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0
        )
        times = (np.arange(len(r)) + 0.5) * 0.01
        k = np.clip(np.round((times - pitch.xs()[0]) / 0.01).astype(int), 0, pitch.n_frames - 1)
        f = pitch.selected_array["frequency"][k]
        ours.append(r.f0_hz)
        ref.append(np.where(f > 0, f, np.nan))
    f0, praat = np.concatenate(ours), np.concatenate(ref)
    both = np.isfinite(f0) & np.isfinite(praat)
    assert both.sum() > 150
    gross = np.abs(f0[both] / praat[both] - 1) > 0.2
    assert gross.mean() < 0.05
    assert np.mean(np.isfinite(f0) == np.isfinite(praat)) > 0.8
