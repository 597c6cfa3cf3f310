"""Front-end frames to model input windows: the one code path shared by training and the device.

A window is ``window_hops`` consecutive 10 ms hops (1.0 s) of per-hop channels: the log-mel bands
followed by a few prosody channels (level, F0 in semitones with unvoiced gaps filled, voicing,
VAD, alpha ratio, Hammarberg index). Each channel is normalised with fixed constants (mean and
standard deviation measured once on the training data and stored in the model card), or, when the
spec has ``speaker_norm`` settings, with the speaker's own running statistics
(:class:`~edge.model.speaker_norm.SpeakerNorm`, the fixed constants as its prior); then clipped,
and NaNs become 0 (the mean). A new window is emitted every ``stride_hops`` hops.

Training calls :func:`windows_from_batch`, which is literally a fresh :class:`WindowBuilder` fed
the whole utterance, so what the network learns from and what the device feeds it cannot differ.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.features.frames import FrameBatch
from edge.model.speaker_norm import FIXED_CHANNELS, SpeakerNorm, SpeakerNormSettings

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]

#: Prosody channels after the mel bands, in order.
PROSODY_CHANNELS = ("level_dbfs", "f0_st", "voicing", "vad", "alpha_ratio_db", "hammarberg_db")


def channel_names(n_mels: int) -> tuple[str, ...]:
    """Names of the input channels, mel bands first."""
    return tuple(f"mel{i:02d}" for i in range(n_mels)) + PROSODY_CHANNELS


@dataclass(frozen=True)
class InputSpec:
    """Shape and normalisation of the model input; stored in (and loaded from) the model card."""

    n_mels: int = 40
    """Number of log-mel bands taken from the front-end (must match its FeatureConfig)."""

    window_hops: int = 100
    """Hops per window (100 x 10 ms = 1.0 s)."""

    stride_hops: int = 50
    """Hops between the ends of consecutive windows (0.5 s)."""

    min_speech_fraction: float = 0.3
    """Windows with less VAD speech than this are not scored (and not trained on)."""

    clip: float = 6.0
    """Normalised values are clipped to +-clip."""

    mean: tuple[float, ...] = ()
    """Per-channel mean subtracted before scaling (empty = 0, i.e. not yet fitted)."""

    std: tuple[float, ...] = ()
    """Per-channel standard deviation divided by (empty = 1)."""

    speaker_norm: SpeakerNormSettings | None = None
    """Per-speaker input normalisation (None = the fixed constants only, as in older cards)."""

    def __post_init__(self) -> None:
        if self.window_hops < 1 or self.stride_hops < 1:
            raise ValueError("window_hops and stride_hops must be positive")
        if not 0.0 <= self.min_speech_fraction <= 1.0:
            raise ValueError("min_speech_fraction must be within 0..1")
        n = self.n_channels
        for name in ("mean", "std"):
            v = getattr(self, name)
            if v and len(v) != n:
                raise ValueError(f"{name} has {len(v)} values, expected {n}")
        if self.std and min(self.std) <= 0:
            raise ValueError("std values must be positive")

    @property
    def n_channels(self) -> int:
        return self.n_mels + len(PROSODY_CHANNELS)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of one window (hops, channels)."""
        return (self.window_hops, self.n_channels)

    def with_stats(self, mean: Sequence[float], std: Sequence[float]) -> InputSpec:
        """A copy with fitted normalisation constants (rounded to 6 significant digits)."""
        return replace(
            self,
            mean=tuple(float(f"{m:.6g}") for m in mean),
            std=tuple(float(f"{max(s, 1e-3):.6g}") for s in std),
        )

    def new_speaker_norm(self) -> SpeakerNorm | None:
        """A fresh (prior-only) :class:`SpeakerNorm` for one speaker, or None without
        ``speaker_norm`` settings."""
        if self.speaker_norm is None:
            return None
        if not self.mean or not self.std:
            raise ValueError("speaker normalisation needs fitted mean/std as its prior")
        return SpeakerNorm(
            self.mean,
            self.std,
            vad_col=self.n_mels + PROSODY_CHANNELS.index("vad"),
            fixed_cols=tuple(self.n_mels + PROSODY_CHANNELS.index(c) for c in FIXED_CHANNELS),
            settings=self.speaker_norm,
        )

    def to_dict(self) -> dict[str, Any]:
        d = {
            "n_mels": self.n_mels,
            "window_hops": self.window_hops,
            "stride_hops": self.stride_hops,
            "min_speech_fraction": self.min_speech_fraction,
            "clip": self.clip,
            "channels": list(channel_names(self.n_mels)),
            "mean": list(self.mean),
            "std": list(self.std),
        }
        if self.speaker_norm is not None:
            d["speaker_norm"] = self.speaker_norm.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InputSpec:
        return cls(
            n_mels=int(d["n_mels"]),
            window_hops=int(d["window_hops"]),
            stride_hops=int(d["stride_hops"]),
            min_speech_fraction=float(d["min_speech_fraction"]),
            clip=float(d["clip"]),
            mean=tuple(float(v) for v in d.get("mean", ())),
            std=tuple(float(v) for v in d.get("std", ())),
            speaker_norm=(
                SpeakerNormSettings.from_dict(d["speaker_norm"]) if d.get("speaker_norm") else None
            ),
        )


@dataclass(frozen=True)
class Window:
    """One model input window."""

    x: F32
    """Normalised input, shape ``spec.shape``, float32."""
    t_end: float
    """Stream time (s) of the last hop in the window."""
    speech_fraction: float
    """Fraction of hops with VAD speech."""


def raw_rows(batch: FrameBatch, n_mels: int) -> F32:
    """Per-hop unnormalised channel rows, shape (n, n_mels + 6); F0 keeps its NaNs."""
    if batch.n_mels != n_mels:
        raise ValueError(f"front-end gives {batch.n_mels} mel bands, the model expects {n_mels}")
    cols = [batch.mel.astype(np.float32)]
    for name in PROSODY_CHANNELS:
        cols.append(np.asarray(getattr(batch, name), np.float32)[:, None])
    return np.concatenate(cols, axis=1)


def _fill_f0(col: F32) -> F32:
    """Linear interpolation across unvoiced gaps, edges held; all-NaN stays NaN."""
    ok = np.isfinite(col)
    if ok.all() or not ok.any():
        return col
    idx = np.arange(col.shape[0])
    return np.interp(idx, idx[ok], col[ok]).astype(np.float32)


def normalise(rows: F32, spec: InputSpec, norm: SpeakerNorm | None = None) -> F32:
    """Turn raw rows (window_hops, n_channels) into the normalised model input: with the
    speaker's statistics when ``norm`` is given, else the spec's fixed constants."""
    x = rows.astype(np.float32, copy=True)
    f0 = spec.n_mels + PROSODY_CHANNELS.index("f0_st")
    x[:, f0] = _fill_f0(x[:, f0])
    if norm is not None:
        mean, std = norm.mean_std()
        x -= mean
        x /= std
    elif spec.mean:
        x -= np.asarray(spec.mean, np.float32)
    if spec.std:
        x /= np.asarray(spec.std, np.float32)
    np.nan_to_num(x, copy=False, nan=0.0, posinf=spec.clip, neginf=-spec.clip)
    np.clip(x, -spec.clip, spec.clip, out=x)
    return x


@dataclass
class WindowBuilder:
    """Streaming: feed :class:`FrameBatch` pieces of any length, get windows as they complete."""

    spec: InputSpec
    """Window shape and normalisation."""
    skip_silent: bool = True
    """Drop windows whose speech fraction is below ``spec.min_speech_fraction``."""
    norm: SpeakerNorm | None = None
    """The speaker's input statistics (None: a fresh one if the spec asks for speaker
    normalisation, see :meth:`InputSpec.new_speaker_norm`; else the fixed constants)."""
    adapt: bool = True
    """Update ``norm`` with the pushed hops as they arrive, so each window is normalised by the
    statistics of everything heard up to its last hop, whatever the piece sizes (the device);
    False keeps it as given (training, with a norm fitted on the speaker's files)."""
    _rows: F32 = field(init=False, repr=False)
    _t: npt.NDArray[np.float64] = field(init=False, repr=False)
    _since_emit: int = field(init=False, default=0)
    _total: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.norm is None:
            self.norm = self.spec.new_speaker_norm()
        self.reset()

    def reset(self) -> None:
        """Forget the hops (new stream); the speaker's statistics are kept (see ``norm``)."""
        self._rows = np.zeros((0, self.spec.n_channels), np.float32)
        self._t = np.zeros(0, np.float64)
        self._since_emit = 0
        self._total = 0

    def push(self, batch: FrameBatch) -> list[Window]:
        """Add hops; return the windows that ended inside them (oldest first)."""
        out: list[Window] = []
        if len(batch) == 0:
            return out
        rows = raw_rows(batch, self.spec.n_mels)
        adapt = self.norm if self.adapt else None
        w, s = self.spec.window_hops, self.spec.stride_hops
        # Append in chunks up to the next emission point so long batches stay cheap.
        start = 0
        n = rows.shape[0]
        while start < n:
            need = w - self._total if self._total < w else s - self._since_emit
            take = min(need, n - start)
            if adapt is not None:  # causal: the statistics have heard exactly up to each window
                adapt.update(rows[start : start + take])
            self._append(rows[start : start + take], batch.t[start : start + take])
            start += take
            if self._total >= w and (self._total == w or self._since_emit >= s):
                win = self._emit()
                if win is not None:
                    out.append(win)
        return out

    def _append(self, rows: F32, t: npt.NDArray[np.float64]) -> None:
        w = self.spec.window_hops
        self._rows = np.concatenate([self._rows, rows])[-w:]
        self._t = np.concatenate([self._t, t])[-w:]
        self._total += rows.shape[0]
        self._since_emit += rows.shape[0]

    def _emit(self) -> Window | None:
        self._since_emit = 0
        vad_col = self.spec.n_mels + PROSODY_CHANNELS.index("vad")
        speech = float(np.mean(self._rows[:, vad_col] > 0.5))
        if self.skip_silent and speech < self.spec.min_speech_fraction:
            return None
        return Window(
            x=normalise(self._rows, self.spec, self.norm),
            t_end=float(self._t[-1]),
            speech_fraction=speech,
        )


def windows_from_batch(
    batch: FrameBatch,
    spec: InputSpec,
    skip_silent: bool = True,
    norm: SpeakerNorm | None = None,
) -> list[Window]:
    """All windows of one whole utterance: exactly what the device's builder emits for it.
    With speaker normalisation, pass the speaker's ``norm`` fitted beforehand
    (:func:`fit_speaker_norm`); it is used as is."""
    return WindowBuilder(spec, skip_silent=skip_silent, norm=norm, adapt=False).push(batch)


def fit_speaker_norm(batches: Sequence[FrameBatch], spec: InputSpec) -> SpeakerNorm | None:
    """One speaker's :class:`SpeakerNorm` after all of ``batches`` (the device's norm once it
    has heard them), or None when the spec has no speaker normalisation."""
    norm = spec.new_speaker_norm()
    if norm is not None:
        for b in batches:
            norm.update(raw_rows(b, spec.n_mels))
    return norm


def fit_stats(rows: Sequence[F32], spec: InputSpec) -> InputSpec:
    """Fit the per-channel normalisation on raw rows (speech hops only; F0 over voiced hops)."""
    vad_col = spec.n_mels + PROSODY_CHANNELS.index("vad")
    allrows = np.concatenate([r for r in rows if r.shape[0]], axis=0).astype(np.float64)
    speech = allrows[allrows[:, vad_col] > 0.5]
    use = speech if speech.shape[0] >= 100 else allrows
    mean = np.nanmean(use, axis=0)
    std = np.nanstd(use, axis=0)
    # Binary/bounded channels keep a unit-ish scale so their 0/1 values stay informative.
    for name in ("vad", "voicing"):
        c = spec.n_mels + PROSODY_CHANNELS.index(name)
        mean[c], std[c] = 0.5, 0.5
    return spec.with_stats(np.nan_to_num(mean).tolist(), np.nan_to_num(std, nan=1.0).tolist())


def stack(windows: Sequence[Window], spec: InputSpec) -> F32:
    """Windows as one array (n, window_hops, n_channels)."""
    if not windows:
        return np.zeros((0, *spec.shape), np.float32)
    return np.stack([w.x for w in windows]).astype(np.float32)
