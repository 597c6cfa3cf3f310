"""Seeded audio augmentation that imitates what a headset inline with a phone hears.

All functions are pure: a float32 signal in, a new float32 signal out, randomness only through the
``numpy.random.Generator`` passed in. :func:`augment` applies a named recipe (see
:data:`VARIANTS`); the seed of each (file, variant) pair is derived from their names, so cached
features can always be rebuilt bit-for-bit.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soxr
from scipy import signal

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]

#: Bumped whenever a recipe changes, so cached features of augmented copies are rebuilt.
AUGMENT_VERSION = 1

#: Recipes: the clean original and three degraded copies.
VARIANTS = ("clean", "phone", "noisy", "phone_noisy")


@dataclass(frozen=True)
class AugmentSettings:
    """Ranges of the random degradations."""

    gain_db: tuple[float, float] = (-9.0, 6.0)
    """Level change range (dB), drawn uniformly."""

    snr_db: tuple[float, float] = (8.0, 30.0)
    """Signal-to-noise ratio range (dB) of the added background noise."""

    speed: tuple[float, float] = (0.94, 1.06)
    """Speed factor range: resampling changes tempo and pitch together."""

    band_hz: tuple[float, float] = (300.0, 3400.0)
    """Telephone pass band."""


def gain(x: F32, db: float) -> F32:
    """Scale by ``db`` decibels, clipped to [-1, 1]."""
    return np.clip(x * np.float32(10.0 ** (db / 20.0)), -1.0, 1.0).astype(np.float32)


def mu_law_round_trip(x: F32, mu: int = 255) -> F32:
    """G.711-like 8-bit mu-law encode and decode (codec quantisation noise)."""
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / np.log1p(mu)
    q = np.round((y + 1.0) / 2.0 * mu) / mu * 2.0 - 1.0
    return (np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu).astype(np.float32)


def telephone(x: F32, sr: int, band_hz: tuple[float, float] = (300.0, 3400.0)) -> F32:
    """Narrowband phone path: down to 8 kHz, band-pass, 8-bit mu-law, back up to ``sr``."""
    nb = soxr.resample(x.astype(np.float32), sr, 8000).astype(np.float64)
    sos = signal.butter(6, band_hz, btype="bandpass", fs=8000, output="sos")
    nb = signal.sosfilt(sos, nb).astype(np.float32)
    nb = mu_law_round_trip(np.clip(nb, -1.0, 1.0))
    return np.asarray(soxr.resample(nb, 8000, sr), np.float32)


def coloured_noise(n: int, rng: np.random.Generator, slope_db_per_oct: float) -> F32:
    """Gaussian noise with a spectral slope (0 white, -3 pink, -6 brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    spec *= f ** (slope_db_per_oct / 6.02)
    y = np.fft.irfft(spec, n)
    return (y / (np.sqrt(np.mean(y**2)) + 1e-12)).astype(np.float32)


def add_noise(x: F32, snr_db: float, rng: np.random.Generator) -> F32:
    """Add office-like background noise (random slope between pink and brown, slow level wobble)."""
    slope = float(rng.uniform(-6.0, -2.0))
    noise = coloured_noise(x.shape[0], rng, slope)
    wobble = 1.0 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.2, 1.5) * np.arange(x.shape[0]) / 16000)
    noise = noise * wobble.astype(np.float32)
    active = np.abs(x) > 1e-4
    p_sig = float(np.mean(x[active] ** 2)) if active.any() else 1e-8
    scale = np.sqrt(p_sig / 10.0 ** (snr_db / 10.0))
    return np.clip(x + scale * noise, -1.0, 1.0).astype(np.float32)


def change_speed(x: F32, sr: int, factor: float) -> F32:
    """Play ``factor`` times faster (and higher) by resampling: ``sr*factor`` read as ``sr``."""
    if abs(factor - 1.0) < 1e-6:
        return x.astype(np.float32)
    return np.asarray(soxr.resample(x.astype(np.float32), sr * factor, sr), np.float32)


def change_tempo(x: F32, sr: int, factor: float) -> F32:
    """Play ``factor`` times faster at the same pitch (SoX ``tempo -s``: WSOLA tuned for speech;
    needs the ``sox`` command). Time stretches uniformly: an event at ``t`` moves to
    ``t/factor``."""
    if abs(factor - 1.0) < 1e-6:
        return x.astype(np.float32)
    if shutil.which("sox") is None:
        raise RuntimeError("change_tempo needs the sox command (apt install sox)")
    raw = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(sr)]
    cmd = ["sox", "-D", "-V1", *raw, "-", *raw, "-", "tempo", "-s", f"{factor:.4f}"]
    done = subprocess.run(
        cmd, input=np.ascontiguousarray(x, "<f4").tobytes(), capture_output=True, check=True
    )
    return np.frombuffer(done.stdout, "<f4").astype(np.float32)


def seed_for(key: str, variant: str, base_seed: int = 0) -> int:
    """A stable seed for one (file, variant) pair."""
    return zlib.crc32(f"{base_seed}:{key}:{variant}".encode())


def augment(
    x: F32,
    sr: int,
    variant: str,
    rng: np.random.Generator,
    settings: AugmentSettings = AugmentSettings(),
) -> F32:
    """Apply recipe ``variant`` (one of :data:`VARIANTS`) to ``x`` sampled at ``sr``."""
    if variant == "clean":
        return x.astype(np.float32)
    if variant not in VARIANTS:
        raise ValueError(f"unknown augmentation variant {variant!r}")
    y = change_speed(x, sr, float(rng.uniform(*settings.speed)))
    y = gain(y, float(rng.uniform(*settings.gain_db)))
    if variant in ("noisy", "phone_noisy"):
        y = add_noise(y, float(rng.uniform(*settings.snr_db)), rng)
    if variant in ("phone", "phone_noisy"):
        y = telephone(y, sr, settings.band_hz)
    return y
