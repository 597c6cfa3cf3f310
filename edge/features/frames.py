"""The per-hop output of the front-end: a struct of arrays, one row per 10 ms hop.

This is the contract between the front-end and everything downstream (analysis summaries,
conversation dynamics, model inputs, drift detectors). Arrays all have the same length ``n``.
Unvoiced or undefined values are ``NaN`` in float arrays.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Reference for semitone values: A0, 27.5 Hz.
SEMITONE_REF_HZ = 27.5


@dataclass(frozen=True)
class FrameBatch:
    """Features for ``n`` consecutive hops of one channel."""

    t: F64
    """Hop centre time in seconds from the start of the stream."""
    level_dbfs: F32
    """RMS level of the analysis window in dBFS (full-scale sine = -3 dBFS); floor -120."""
    vad: B
    """Voice activity (speech present)."""
    f0_hz: F32
    """Fundamental frequency in Hz; NaN when unvoiced."""
    f0_st: F32
    """F0 in semitones re 27.5 Hz; NaN when unvoiced."""
    voicing: F32
    """Voicing confidence 0..1 (periodicity)."""
    mel: F32
    """Log-mel energies, shape (n, n_mels), natural log of power + 1e-10."""
    alpha_ratio_db: F32
    """Alpha ratio (eGeMAPS): summed energy 50-1000 Hz over 1-5 kHz, in dB."""
    hammarberg_db: F32
    """Peak energy 0-2 kHz minus peak energy 2-5 kHz, in dB."""
    jitter: F32
    """Local period jitter (relative, 0..1); NaN when unvoiced."""
    shimmer: F32
    """Local amplitude shimmer (relative, 0..1); NaN when unvoiced."""
    nucleus: B
    """True at hops where the intensity-peak detector (De Jong & Wempe) found a nucleus."""
    syllables: F32
    """Syllables in this hop: the learned counter's density (0 outside speech); its sum over any
    stretch is the syllable count there (``edge.features.syllables``). Equals ``nucleus`` when
    the front-end runs without the learned counter."""
    speech_rate_sps: F32
    """Syllables (``syllables`` summed) per second over the trailing ``rate_window_s`` including
    pauses."""
    articulation_rate_sps: F32
    """Syllables per second of speech (VAD) time in the trailing window; NaN without speech."""
    pitch_sd_st: F32
    """SD of voiced F0 in semitones over the trailing window; NaN with too few voiced frames."""
    pause_s: F32
    """Length in seconds of a pause that ends at this hop (speech resumes); 0 elsewhere."""

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def n_mels(self) -> int:
        return int(self.mel.shape[1])

    @classmethod
    def empty(cls, n_mels: int) -> FrameBatch:
        kw: dict[str, np.ndarray] = {}
        for f in dataclasses.fields(cls):
            if f.name == "t":
                kw[f.name] = np.zeros(0, np.float64)
            elif f.name == "mel":
                kw[f.name] = np.zeros((0, n_mels), np.float32)
            elif f.name in ("vad", "nucleus"):
                kw[f.name] = np.zeros(0, np.bool_)
            else:
                kw[f.name] = np.zeros(0, np.float32)
        return cls(**kw)

    @classmethod
    def concat(cls, batches: list[FrameBatch]) -> FrameBatch:
        """Join batches in time order (at least one)."""
        if not batches:
            raise ValueError("concat needs at least one batch")
        if len(batches) == 1:
            return batches[0]
        return cls(
            **{
                f.name: np.concatenate([getattr(b, f.name) for b in batches], axis=0)
                for f in dataclasses.fields(cls)
            }
        )

    def slice(self, start: int, stop: int) -> FrameBatch:
        """Rows ``start:stop``."""
        return FrameBatch(
            **{f.name: getattr(self, f.name)[start:stop] for f in dataclasses.fields(self)}
        )

    def columns(self) -> dict[str, np.ndarray]:
        """Field name to array, in field order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
