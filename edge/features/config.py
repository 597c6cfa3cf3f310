"""Settings of the feature front-end. The model card records :func:`FeatureConfig.digest`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

#: Bumped whenever the front-end's computations change in a way that changes its output for the
#: same settings. It is part of :meth:`FeatureConfig.digest`, so a model trained on older features
#: is refused by the device instead of silently fed different numbers (train/serve skew). The
#: learned syllable count (``syllables`` and the rates built on it) is versioned by its own network
#: file instead: it reads these features, and its card records this digest.
FEATURE_CODE_VERSION = 2


@dataclass(frozen=True)
class FeatureConfig:
    """How audio is turned into per-hop features. One instance per channel is not needed: the
    front-end holds the state, this holds only settings."""

    sample_rate: int = 16_000
    """Rate (Hz) the front-end runs at; sources resample to it."""

    hop_s: float = 0.010
    """Hop between analysis frames in seconds (10 ms)."""

    frame_s: float = 0.025
    """Length of the level/spectral analysis window in seconds."""

    f0_min_hz: float = 60.0
    """Lowest F0 searched for."""

    f0_max_hz: float = 500.0
    """Highest F0 searched for."""

    voicing_threshold: float = 0.5
    """Voicing confidence (0..1) at or above which a frame counts as voiced."""

    n_mels: int = 40
    """Number of log-mel bands fed to the model."""

    mel_fmin_hz: float = 60.0
    """Lower edge of the lowest mel band."""

    mel_fmax_hz: float = 7_600.0
    """Upper edge of the highest mel band."""

    vad_margin_db: float = 12.0
    """A frame is speech when its level is this far above the tracked noise floor (and above
    ``vad_floor_dbfs``)."""

    vad_floor_dbfs: float = -55.0
    """Absolute level below which a frame is never speech."""

    vad_hangover_s: float = 0.15
    """Speech stays on this long after the level drops (bridges stop closures)."""

    rate_window_s: float = 5.0
    """Sliding window for speech rate, articulation rate and pitch variability."""

    min_pause_s: float = 0.25
    """Silences at least this long inside speech count as pauses."""

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        if not 0 < self.hop_s < self.frame_s:
            raise ValueError("need 0 < hop_s < frame_s")
        if not 0 < self.f0_min_hz < self.f0_max_hz < self.sample_rate / 2:
            raise ValueError("need 0 < f0_min_hz < f0_max_hz < sample_rate/2")
        if not 0 < self.mel_fmin_hz < self.mel_fmax_hz <= self.sample_rate / 2:
            raise ValueError("need 0 < mel_fmin_hz < mel_fmax_hz <= sample_rate/2")
        if self.n_mels < 1:
            raise ValueError("n_mels must be at least 1")

    @property
    def hop(self) -> int:
        """Hop in samples."""
        return round(self.hop_s * self.sample_rate)

    @property
    def frame(self) -> int:
        """Level/spectral window in samples."""
        return round(self.frame_s * self.sample_rate)

    def digest(self) -> str:
        """sha256 over the settings and :data:`FEATURE_CODE_VERSION` (hex)."""
        payload = {"code_version": FEATURE_CODE_VERSION, **dataclasses.asdict(self)}
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()
