"""Who is speaking: a small voice signature from the front-end's features, and speaker change.

Desks are shared, so the device must not measure one agent against another's baseline. When no
sign-in names the agent, the first ``probe_speech_s`` seconds of agent speech of a call are
reduced to a :class:`VoiceSignature` and compared with the signatures of the agents whose
baselines the device keeps (:func:`match`): the closest one within ``threshold`` resumes;
otherwise the voice is new and calibrates from nothing.

The signature is what a headset hears of a voice regardless of what is said:

* ``shape``: band-to-band differences of the long-term average log-mel spectrum over speech hops
  (timbre and vocal tract through this headset; independent of level), natural-log units;
* ``f0_st``: median F0 over voiced speech hops (semitones re 27.5 Hz).

``distance = rms(shape_a - shape_b) / shape_scale + |f0_a - f0_b| / f0_scale_st``: about 1 at the
boundary. The scales and threshold were chosen on the EmoDB and RAVDESS speakers, calm speech
against calm speech (``python -m bench.voice_change`` measures false accepts and rejects; it is
not a held-out figure). Aroused speech moves both parts as far as a different speaker does, so a
call that opens agitated is usually taken for a new voice (a fresh calibration, the safe side).
Pure and I/O-free.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.features.frames import FrameBatch

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
SIGNATURE_VERSION = 1


@dataclass(frozen=True)
class VoiceSettings:
    """How a call's first speech is matched to an agent's voice."""

    probe_speech_s: float = 8.0
    """Seconds of agent speech at the start of a call reduced to its signature."""
    threshold: float = 1.0
    """Largest :func:`distance` that still counts as the same voice."""
    shape_scale: float = 0.3
    """Spectral-shape RMS difference (natural-log units) worth one unit of distance."""
    f0_scale_st: float = 4.0
    """Median-F0 difference (semitones) worth one unit of distance."""

    def __post_init__(self) -> None:
        if self.probe_speech_s <= 0 or self.threshold <= 0:
            raise ValueError("probe_speech_s and threshold must be positive")
        if self.shape_scale <= 0 or self.f0_scale_st <= 0:
            raise ValueError("the distance scales must be positive")


@dataclass(frozen=True)
class VoiceSignature:
    """What a voice sounds like on average (see module doc)."""

    shape: tuple[float, ...]
    """Band-to-band differences of the mean log-mel spectrum over speech hops."""
    f0_st: float
    """Median F0 of voiced speech hops (semitones); NaN if none was voiced."""
    speech_s: float
    """Seconds of speech behind it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SIGNATURE_VERSION,
            "shape": [round(v, 3) for v in self.shape],
            "f0_st": None if not np.isfinite(self.f0_st) else round(self.f0_st, 3),
            "speech_s": round(self.speech_s, 2),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VoiceSignature:
        """Rebuild from :meth:`to_dict`; ValueError on anything malformed."""
        if d.get("version") != SIGNATURE_VERSION:
            raise ValueError(f"unsupported voice signature version {d.get('version')!r}")
        shape = d.get("shape")
        if not isinstance(shape, list) or not shape:
            raise ValueError("voice signature has no spectral shape")
        vals = tuple(float(v) for v in shape)
        if not all(np.isfinite(vals)):
            raise ValueError("voice signature shape is not finite")
        f0 = d.get("f0_st")
        speech = float(d.get("speech_s", 0.0))
        return cls(vals, float("nan") if f0 is None else float(f0), speech)


class SignatureBuilder:
    """Accumulates speech hops until a signature can be made."""

    def __init__(self) -> None:
        self._mel_sum: F64 | None = None
        self._n = 0
        self._f0: list[F64] = []
        self.hop_s = 0.01

    @property
    def speech_s(self) -> float:
        """Seconds of speech collected."""
        return self._n * self.hop_s

    def reset(self) -> None:
        self._mel_sum = None
        self._n = 0
        self._f0 = []

    def push(self, batch: FrameBatch, hop_s: float = 0.01) -> None:
        """Add the speech hops of ``batch``."""
        self.hop_s = hop_s
        if len(batch) == 0:
            return
        speech = np.asarray(batch.vad, bool)
        if not speech.any():
            return
        mel = np.asarray(batch.mel, np.float64)[speech]
        s = mel.sum(axis=0)
        self._mel_sum = s if self._mel_sum is None else self._mel_sum + s
        self._n += int(speech.sum())
        f0 = np.asarray(batch.f0_st, np.float64)[speech]
        f0 = f0[np.isfinite(f0)]
        if f0.size:
            self._f0.append(f0)

    def signature(self) -> VoiceSignature | None:
        """The signature of what was collected, or None without speech."""
        if self._mel_sum is None or self._n == 0:
            return None
        shape = np.diff(self._mel_sum / self._n)
        f0 = np.concatenate(self._f0) if self._f0 else np.zeros(0)
        return VoiceSignature(
            tuple(float(v) for v in shape),
            float(np.median(f0)) if f0.size else float("nan"),
            self.speech_s,
        )


def distance(a: VoiceSignature, b: VoiceSignature, settings: VoiceSettings) -> float:
    """How different two voices are (about 1 at the same/different boundary)."""
    sa, sb = np.asarray(a.shape), np.asarray(b.shape)
    if sa.shape != sb.shape:
        return float("inf")
    d = float(np.sqrt(np.mean((sa - sb) ** 2))) / settings.shape_scale
    if np.isfinite(a.f0_st) and np.isfinite(b.f0_st):
        d += abs(a.f0_st - b.f0_st) / settings.f0_scale_st
    return d


def match(
    probe: VoiceSignature, known: Mapping[str, VoiceSignature], settings: VoiceSettings
) -> tuple[str | None, float]:
    """The known agent whose voice is closest to ``probe`` within the threshold (None if none),
    and that distance (inf when nobody is known)."""
    best, best_d = None, float("inf")
    for agent, sig in sorted(known.items()):
        d = distance(probe, sig, settings)
        if d < best_d:
            best, best_d = agent, d
    if best is None or best_d > settings.threshold:
        return None, best_d
    return best, best_d
