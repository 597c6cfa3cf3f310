"""Level, log-mel, alpha ratio and Hammarberg index of single frames."""

from __future__ import annotations

import numpy as np
import pytest

from edge.features.config import FeatureConfig
from edge.features.spectral import (
    LEVEL_FLOOR_DBFS,
    SpectralAnalyzer,
    hz_to_mel,
    mel_filterbank,
    mel_to_hz,
)

CFG = FeatureConfig()


def tone_frames(freqs_hz: list[float], amplitude: float = 1.0) -> np.ndarray:
    n = CFG.frame
    t = np.arange(n) / CFG.sample_rate
    return np.stack([amplitude * np.sin(2 * np.pi * f * t + 0.3) for f in freqs_hz]).astype(
        np.float32
    )


def test_level_of_sines_and_silence() -> None:
    an = SpectralAnalyzer(CFG)
    # 25 ms at 16 kHz is 400 samples: 1 kHz and 2 kHz fit whole periods, so RMS is exact.
    out = an.analyze(np.concatenate([tone_frames([1000.0, 2000.0]), tone_frames([1000.0], 0.1)]))
    np.testing.assert_allclose(out.level_dbfs, [-3.0103, -3.0103, -23.0103], atol=1e-3)
    silent = an.analyze(np.zeros((2, CFG.frame), np.float32))
    assert (silent.level_dbfs == LEVEL_FLOOR_DBFS).all()
    assert np.isfinite(silent.mel).all() and np.isfinite(silent.alpha_ratio_db).all()


def test_mel_scale_round_trip_and_bank_covers_every_band() -> None:
    hz = np.array([0.0, 60.0, 1000.0, 7600.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, atol=1e-9)
    assert hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.5)
    for n_mels in (1, 40, 128):
        bank = mel_filterbank(n_mels, 512, 16_000, 60.0, 7600.0)
        assert bank.shape == (257, n_mels)
        assert (bank.max(axis=0) > 0).all()
        centres = bank.argmax(axis=0)
        assert (np.diff(centres) >= 0).all()


def test_tone_lights_up_the_mel_band_around_it() -> None:
    an = SpectralAnalyzer(CFG)
    freqs = [200.0, 800.0, 3000.0]
    out = an.analyze(tone_frames(freqs, 0.5))
    edges = mel_to_hz(
        np.linspace(hz_to_mel(CFG.mel_fmin_hz), hz_to_mel(CFG.mel_fmax_hz), CFG.n_mels + 2)
    )
    centres = edges[1:-1]
    for row, f in zip(out.mel, freqs, strict=True):
        assert abs(centres[int(row.argmax())] - f) <= np.diff(edges).max()


def test_alpha_ratio_and_hammarberg_follow_spectral_tilt() -> None:
    an = SpectralAnalyzer(CFG)
    out = an.analyze(tone_frames([300.0, 3000.0], 0.5))
    low, high = out.alpha_ratio_db, out.hammarberg_db
    assert low[0] < -30 and low[1] > 30  # alpha: 1-5 kHz minus 50 Hz-1 kHz
    assert high[0] > 30 and high[1] < -30  # Hammarberg: 0-2 kHz peak minus 2-5 kHz peak
    # A mix with equal amplitudes: both bands hold one equal peak.
    mix = an.analyze((tone_frames([500.0]) + tone_frames([3000.0])) * np.float32(0.3))
    assert abs(float(mix.hammarberg_db[0])) < 1.0
    assert abs(float(mix.alpha_ratio_db[0])) < 1.0


def test_low_sample_rate_without_upper_band_gives_nan_not_error() -> None:
    cfg = FeatureConfig(sample_rate=1800, f0_max_hz=400.0, mel_fmax_hz=900.0, n_mels=8)
    out = SpectralAnalyzer(cfg).analyze(np.ones((3, cfg.frame), np.float32) * 0.1)
    assert np.isnan(out.alpha_ratio_db).all() and np.isnan(out.hammarberg_db).all()


def test_rejects_wrong_frame_shape() -> None:
    with pytest.raises(ValueError):
        SpectralAnalyzer(CFG).analyze(np.zeros((2, CFG.frame + 1), np.float32))
