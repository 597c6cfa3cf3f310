"""Per-speaker normalisation of the model's inputs: running channel statistics of one voice.

Voices differ in timbre, pitch, loudness and microphone far more than arousal moves them, and a
fixed, corpus-wide normalisation lets a new voice (or a new headset) look "aroused" or "calm" as a
whole. :class:`SpeakerNorm` keeps running per-channel statistics of one speaker's *speech* hops
(VAD speech; F0 over voiced hops only) and the model sees each channel as
``(value - speaker mean) / speaker std`` instead of the corpus-wide constants.

* Prior: the corpus-wide mean/std of the training data, worth ``prior_hops`` hops, so a new voice
  starts from the fixed normalisation and moves to its own statistics as it speaks.
* Forgetting: once a channel has more than ``max_hops`` hops behind it the older evidence is
  scaled down (exponential forgetting), so a baseline follows slow changes.
* Binary channels (``vad``, ``voicing``) keep the fixed 0.5/0.5 scaling.

Training fits one :class:`SpeakerNorm` per training speaker (and per augmentation copy, i.e. per
channel condition) with exactly this code, then cuts windows with
:class:`~edge.model.inputs.WindowBuilder` using it; the device updates the agent's norm with every
batch of hops it pushes (``adapt=True``) and persists its :meth:`SpeakerNorm.state` per agent.
Pure and I/O-free.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

STATE_VERSION = 1
#: Channels that keep the fixed normalisation (binary flags).
FIXED_CHANNELS = ("vad", "voicing")


@dataclass(frozen=True)
class SpeakerNormSettings:
    """How a speaker's input statistics are kept (stored in the model card's input spec)."""

    prior_hops: float = 1000.0
    """Weight of the corpus-wide statistics, in hops (1000 = 10 s of speech)."""
    max_hops: float = 60_000.0
    """Evidence kept per channel before older hops are forgotten (10 minutes of speech)."""
    min_std_ratio: float = 0.25
    """A speaker's std is floored at this fraction of the corpus-wide std."""

    def __post_init__(self) -> None:
        if self.prior_hops <= 0 or self.max_hops <= 0:
            raise ValueError("prior_hops and max_hops must be positive")
        if not 0.0 < self.min_std_ratio <= 1.0:
            raise ValueError("min_std_ratio must be within (0, 1]")

    def to_dict(self) -> dict[str, float]:
        return {
            "prior_hops": self.prior_hops,
            "max_hops": self.max_hops,
            "min_std_ratio": self.min_std_ratio,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpeakerNormSettings:
        return cls(
            prior_hops=float(d.get("prior_hops", cls.prior_hops)),
            max_hops=float(d.get("max_hops", cls.max_hops)),
            min_std_ratio=float(d.get("min_std_ratio", cls.min_std_ratio)),
        )


class SpeakerNorm:
    """Running per-channel mean and variance of one speaker's speech hops, with a prior."""

    def __init__(
        self,
        prior_mean: npt.ArrayLike,
        prior_std: npt.ArrayLike,
        vad_col: int,
        fixed_cols: tuple[int, ...],
        settings: SpeakerNormSettings | None = None,
    ) -> None:
        self.settings = settings if settings is not None else SpeakerNormSettings()
        self.prior_mean = np.asarray(prior_mean, np.float64)
        self.prior_std = np.asarray(prior_std, np.float64)
        if self.prior_mean.shape != self.prior_std.shape or self.prior_mean.ndim != 1:
            raise ValueError("prior mean and std must be 1-D and the same length")
        self.vad_col = vad_col
        self.fixed_cols = fixed_cols
        n = self.prior_mean.shape[0]
        self._n = np.zeros(n, np.float64)
        self._mean = np.zeros(n, np.float64)
        self._m2 = np.zeros(n, np.float64)
        self._cache: tuple[F32, F32] | None = None

    @property
    def speech_hops(self) -> float:
        """Speech hops behind the statistics (after forgetting), as seen on the VAD channel."""
        return float(self._n[self.vad_col])

    def reset(self) -> None:
        """Forget the speaker (back to the prior)."""
        self._n[:] = 0.0
        self._mean[:] = 0.0
        self._m2[:] = 0.0
        self._cache = None

    def update(self, rows: F32) -> None:
        """Add raw rows (hops, channels); only VAD-speech hops count, NaNs are skipped per
        channel (F0 of unvoiced hops)."""
        if rows.shape[0] == 0:
            return
        speech = rows[rows[:, self.vad_col] > 0.5].astype(np.float64)
        if speech.shape[0] == 0:
            return
        ok = np.isfinite(speech)
        nb = ok.sum(axis=0).astype(np.float64)
        vals = np.where(ok, speech, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mb = np.where(nb > 0, vals.sum(axis=0) / np.maximum(nb, 1.0), 0.0)
            m2b = np.where(ok, (speech - mb) ** 2, 0.0).sum(axis=0)
        n = self._n + nb
        delta = mb - self._mean
        frac = np.where(n > 0, nb / np.maximum(n, 1e-12), 0.0)
        self._mean = self._mean + delta * frac
        self._m2 = self._m2 + m2b + delta**2 * self._n * frac
        self._n = n
        over = self._n > self.settings.max_hops
        if over.any():
            k = np.where(over, self.settings.max_hops / np.maximum(self._n, 1e-12), 1.0)
            self._n *= k
            self._m2 *= k
        self._cache = None

    def mean_std(self) -> tuple[F32, F32]:
        """The normalisation in effect: prior and speaker evidence pooled per channel."""
        if self._cache is not None:
            return self._cache
        n0 = self.settings.prior_hops
        n = self._n
        tot = n0 + n
        mean = (n0 * self.prior_mean + n * self._mean) / tot
        var_prior = n0 * (self.prior_std**2 + (self.prior_mean - mean) ** 2)
        var_spk = self._m2 + n * (self._mean - mean) ** 2
        std = np.sqrt((var_prior + var_spk) / tot)
        std = np.maximum(std, self.settings.min_std_ratio * self.prior_std)
        for c in self.fixed_cols:
            mean[c], std[c] = self.prior_mean[c], self.prior_std[c]
        self._cache = (mean.astype(np.float32), std.astype(np.float32))
        return self._cache

    def state(self) -> dict[str, Any]:
        """JSON-ready state (the prior comes from the model card, it is not stored)."""
        return {
            "version": STATE_VERSION,
            "n": [round(float(v), 3) for v in self._n],
            "mean": [float(f"{v:.7g}") for v in self._mean],
            "m2": [float(f"{v:.7g}") for v in self._m2],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`; a state of another version or channel count is refused."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported speaker-norm state version {state.get('version')!r}")
        arrs = [np.asarray(state[k], np.float64) for k in ("n", "mean", "m2")]
        if any(a.shape != self._n.shape for a in arrs) or not all(
            np.isfinite(a).all() for a in arrs
        ):
            raise ValueError("speaker-norm state does not match the model's channels")
        if (arrs[0] < 0).any() or (arrs[2] < 0).any():
            raise ValueError("speaker-norm state has negative counts or variances")
        self._n, self._mean, self._m2 = arrs
        self._cache = None
