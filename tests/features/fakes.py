"""Test doubles and signals for the front-end tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FakePitchFrames:
    f0_hz: F32
    voicing: F32
    jitter: F32
    shimmer: F32


class AutocorrPitch:
    """A small but real pitch analyser: the normalised autocorrelation peak in the F0 lag range.

    Stands in for ``edge.features.pitch.PitchTracker`` (another helper's module) so these tests
    exercise the front-end on its own. Pure: no state across calls.
    """

    def __init__(self, config: FeatureConfig) -> None:
        self.sr = config.sample_rate
        self.min_lag = int(np.floor(self.sr / config.f0_max_hz))
        self.max_lag = int(np.ceil(self.sr / config.f0_min_hz))
        self.frame_length = 2 * self.max_lag
        self.context_hops = 0
        self.calls: list[int] = []

    def candidates(self, frames: F32) -> F32:
        r = self.analyze(frames)
        return np.stack([r.f0_hz, r.voicing, r.jitter, r.shimmer], axis=1)

    def finish(self, frames: F32, candidates: F32, context: int) -> FakePitchFrames:
        assert candidates.shape[0] == frames.shape[0] + 2 * context
        c = candidates[context : context + frames.shape[0]]
        return FakePitchFrames(*(np.ascontiguousarray(c[:, k]) for k in range(4)))

    def analyze(self, frames: F32) -> FakePitchFrames:
        self.calls.append(int(frames.shape[0]))
        x = frames.astype(np.float64)
        x = x - x.mean(axis=1, keepdims=True)
        n_fft = 1 << (2 * x.shape[1] - 1).bit_length()
        spec = np.fft.rfft(x, n_fft, axis=1)
        ac = np.fft.irfft(spec * np.conj(spec), n_fft, axis=1)[:, : self.max_lag + 1]
        energy = ac[:, :1]
        with np.errstate(invalid="ignore", divide="ignore"):
            norm = np.where(energy > 1e-9, ac / energy, 0.0)
        # Unbiased for the shrinking overlap.
        n = x.shape[1]
        lags = np.arange(self.max_lag + 1)
        norm = norm * (n / (n - lags))[None, :]
        band = norm[:, self.min_lag :]
        best = band.argmax(axis=1)
        voicing = np.clip(band[np.arange(len(best)), best], 0.0, 1.0).astype(np.float32)
        f0 = (self.sr / (best + self.min_lag)).astype(np.float32)
        f0 = np.where(voicing >= 0.5, f0, np.nan).astype(np.float32)
        small = np.where(np.isfinite(f0), 0.01, np.nan).astype(np.float32)
        return FakePitchFrames(f0, voicing, small, small)


def syllable_train(
    sr: int,
    seconds: float,
    rate_hz: float = 4.0,
    f0: float = 150.0,
    level: float = 0.3,
    noise: float = 0.001,
    seed: int = 0,
) -> F32:
    """Voiced 'syllables': a harmonic tone whose amplitude is a raised cosine at ``rate_hz``
    (one peak per syllable), over white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * rate_hz * t), 0.0, None) ** 2
    x = level * tone * envelope / 2.0 + noise * rng.standard_normal(t.shape)
    return x.astype(np.float32)
