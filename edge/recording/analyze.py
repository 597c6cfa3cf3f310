"""Offline analysis of a recorded call: per-channel features, summaries, timeline and dynamics.

The core is I/O-free: :func:`analyze_source` pulls blocks from any
:class:`~edge.protocols.AudioSource` (a WAV file in ``poise analyze``), runs one streaming
:class:`~edge.features.frontend.FrontEnd` per channel and, for two channels, the streaming
:class:`~edge.conversation.dynamics.DynamicsTracker` (the first channel plays the agent
role, the second the customer) fed each side's talk as the device decides it
(:class:`~edge.device.own_voice.OwnVoiceGate`). :func:`channel_summary`, :func:`timeline` and
:func:`report` turn the result into plain JSON-ready values (``None`` where a value is
undefined, never NaN).

Per-channel summary definitions (hops are 10 ms; "speech" = front-end VAD):

* ``speech_s``: speech time; ``syllables``: the learned counter's syllables (its density summed,
  rounded to 0.1; ``edge.features.syllables``); ``peak_nuclei``: intensity-peak (De Jong)
  nuclei, for comparison;
* ``articulation_rate_sps`` = syllables / speech time;
* ``speech_rate_sps`` = syllables / (speech time + pauses), where pauses are silences inside
  speech from ``FeatureConfig.min_pause_s`` up to ``SummaryConfig.max_pause_s`` (longer silences
  are listening or turn gaps, not pauses); ``pause_count`` and ``pause_mean_s`` count the same;
* ``f0_median_hz``, ``pitch_sd_st`` (SD of F0 in semitones), ``jitter_median``,
  ``shimmer_median`` over voiced speech hops;
* ``level_median_dbfs``, ``alpha_ratio_median_db``, ``hammarberg_median_db`` over speech hops.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.conversation.dynamics import DynamicsConfig, DynamicsEvent, DynamicsTracker
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.protocols import AudioSource
from edge.settings import AudioSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SummaryConfig:
    """How per-call summaries are computed (beyond the front-end's own settings)."""

    max_pause_s: float = 2.0
    """Silences inside a channel's speech longer than this are not pauses (listening, turn
    gaps); they are left out of pause statistics and of the speech rate."""

    timeline_step_s: float = 1.0
    """Row spacing of the JSON timeline."""

    def __post_init__(self) -> None:
        if self.max_pause_s <= 0 or self.timeline_step_s <= 0:
            raise ValueError("max_pause_s and timeline_step_s must be positive")


@dataclass(frozen=True)
class CallAnalysis:
    """Everything ``poise analyze`` reports about one call."""

    names: tuple[str, ...]
    """Channel names, in channel order."""
    frames: dict[str, FrameBatch]
    """Per-hop features per channel (``mel`` dropped to save memory: shape (n, 0))."""
    feature_config: FeatureConfig
    """The front-end settings used."""
    dynamics: DynamicsTracker | None
    """Conversation dynamics (two channels only)."""

    @property
    def duration_s(self) -> float:
        n = max((len(f) for f in self.frames.values()), default=0)
        return n * self.feature_config.hop_s


def _without_mel(b: FrameBatch) -> FrameBatch:
    return dataclasses.replace(b, mel=np.zeros((len(b), 0), np.float32))


def analyze_source(
    source: AudioSource,
    names: Sequence[str],
    feature_config: FeatureConfig | None = None,
    dynamics_config: DynamicsConfig | None = None,
    pitch: Any = None,
    audio: AudioSettings | None = None,
) -> CallAnalysis:
    """Run the front-end (and dynamics for two channels) over every block of ``source``;
    ``audio``: the device's audio settings, of which the own-voice gate of turn-taking is used
    (``own_voice_range_db``, ``own_voice_window_s``; None: their defaults)."""
    from edge.detectors.tick import Lane
    from edge.device.own_voice import CallGates
    from edge.features.frontend import FrontEnd

    cfg = feature_config or FeatureConfig()
    if source.sample_rate != cfg.sample_rate:
        raise ValueError(f"source runs at {source.sample_rate} Hz, front-end at {cfg.sample_rate}")
    if len(names) != source.channels:
        raise ValueError(f"{len(names)} channel names for {source.channels} channels")
    # Offline: analyse >= 1 s per front-end call (same output, less fixed per-call overhead).
    fronts = [FrontEnd(cfg, pitch, min_batch_hops=100) for _ in names]
    parts: list[list[FrameBatch]] = [[] for _ in names]
    tracker = DynamicsTracker(cfg.hop_s, dynamics_config) if len(names) == 2 else None
    # turn-taking's gates: only with two channels, where the tracker runs
    gates = CallGates(audio or AudioSettings(), cfg.hop_s) if tracker else None

    def take(batches: list[FrameBatch]) -> None:
        for i, b in enumerate(batches):
            if len(b):
                parts[i].append(_without_mel(b))
        if tracker is not None and gates is not None:
            a, c = gates.gate(Lane.of(batches[0]), Lane.of(batches[1]))
            tracker.feed(a.talk, c.talk)

    try:
        for block in source.blocks():
            take([fe.process(block.samples[:, i]) for i, fe in enumerate(fronts)])
        take([fe.flush() for fe in fronts])
    finally:
        source.close()
    if tracker is not None:
        tracker.flush()
    frames = {
        name: FrameBatch.concat(p) if p else _without_mel(FrameBatch.empty(cfg.n_mels))
        for name, p in zip(names, parts, strict=True)
    }
    return CallAnalysis(tuple(names), frames, cfg, tracker)


def _num(x: float | np.floating[Any] | None, digits: int = 3) -> float | None:
    """A rounded float, or None for NaN / infinity / None."""
    if x is None:
        return None
    v = float(x)
    return round(v, digits) if math.isfinite(v) else None


def _median(x: npt.NDArray[Any]) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else None


def channel_summary(
    b: FrameBatch, feature_config: FeatureConfig, config: SummaryConfig | None = None
) -> dict[str, float | int | None]:
    """Whole-call summary of one channel (keys in the module docstring)."""
    cfg = config or SummaryConfig()
    hop = feature_config.hop_s
    vad = b.vad
    voiced = vad & np.isfinite(b.f0_hz)
    speech_s = float(vad.sum()) * hop
    syllables = float(b.syllables.sum(dtype=np.float64))
    p = b.pause_s[(b.pause_s > 0) & (b.pause_s <= cfg.max_pause_s)].astype(np.float64)
    pause_total = float(p.sum())
    f0_st = b.f0_st[voiced].astype(np.float64)
    return {
        "duration_s": _num(len(b) * hop),
        "speech_s": _num(speech_s),
        "syllables": _num(syllables, 1),
        "peak_nuclei": int(b.nucleus.sum()),
        "speech_rate_sps": _num(syllables / (speech_s + pause_total)) if speech_s else None,
        "articulation_rate_sps": _num(syllables / speech_s) if speech_s else None,
        "f0_median_hz": _num(_median(b.f0_hz[voiced]), 1),
        "pitch_sd_st": _num(float(np.std(f0_st)), 2) if f0_st.size >= 10 else None,
        "level_median_dbfs": _num(_median(b.level_dbfs[vad]), 1),
        "pause_count": int(p.size),
        "pause_mean_s": _num(float(p.mean())) if p.size else None,
        "jitter_median": _num(_median(b.jitter[voiced]), 4),
        "shimmer_median": _num(_median(b.shimmer[voiced]), 4),
        "alpha_ratio_median_db": _num(_median(b.alpha_ratio_db[vad]), 2),
        "hammarberg_median_db": _num(_median(b.hammarberg_db[vad]), 2),
    }


def _bins(x: npt.NDArray[Any], per: int, fill: float) -> npt.NDArray[np.float64]:
    """Shape (ceil(n/per), per), padded with ``fill``."""
    n_rows = -(-x.size // per)
    out = np.full(n_rows * per, fill, np.float64)
    out[: x.size] = x
    return out.reshape(n_rows, per)


def _nanmedian_rows(m: npt.NDArray[np.float64]) -> list[float | None]:
    ok = np.isfinite(m)
    filled = np.where(ok, m, np.inf)
    srt = np.sort(filled, axis=1)
    cnt = ok.sum(axis=1)
    rows = np.arange(m.shape[0])
    lo = srt[rows, np.maximum((cnt - 1) // 2, 0)]
    hi = srt[rows, np.maximum(cnt // 2, 0)]
    med = np.where(cnt > 0, (lo + hi) / 2, np.nan)
    return [_num(v, 2) for v in med]


def timeline(call: CallAnalysis, config: SummaryConfig | None = None) -> list[dict[str, Any]]:
    """Rows every ``timeline_step_s``: per channel speech share, median level and median F0 of the
    speech hops (null without speech / voicing), and median trailing-window speech rate."""
    cfg = config or SummaryConfig()
    per = max(1, round(cfg.timeline_step_s / call.feature_config.hop_s))
    cols: dict[str, dict[str, list[Any]]] = {}
    n_rows = 0
    for name, b in call.frames.items():
        vad = _bins(b.vad.astype(np.float64), per, np.nan)
        level = _bins(np.where(b.vad, b.level_dbfs, np.nan), per, np.nan)
        f0 = _bins(np.where(b.vad, b.f0_hz, np.nan), per, np.nan)
        rate = _bins(b.speech_rate_sps, per, np.nan)
        valid = np.isfinite(vad).sum(axis=1)
        share = np.where(valid > 0, np.nansum(np.nan_to_num(vad), axis=1) / np.maximum(valid, 1), 0)
        cols[name] = {
            "speech_share": [_num(v, 2) for v in share],
            "level_dbfs": _nanmedian_rows(level),
            "f0_median_hz": _nanmedian_rows(f0),
            "speech_rate_sps": _nanmedian_rows(rate),
        }
        n_rows = max(n_rows, vad.shape[0])
    rows = []
    for r in range(n_rows):
        row: dict[str, Any] = {"t": round(r * per * call.feature_config.hop_s, 3)}
        for name, c in cols.items():
            row[name] = {k: (v[r] if r < len(v) else None) for k, v in c.items()}
        rows.append(row)
    return rows


def _event_dict(e: DynamicsEvent) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "t": round(e.t, 3),
        "duration_s": round(e.duration_s, 3),
        "side": e.side,
    }


def report(call: CallAnalysis, config: SummaryConfig | None = None) -> dict[str, Any]:
    """The ``--json`` document: summary per channel, dynamics (or null), timeline."""
    dyn: dict[str, Any] | None = None
    if call.dynamics is not None:
        dyn = call.dynamics.summary()
        dyn["roles"] = {"agent": call.names[0], "customer": call.names[1]}
        dyn["events"] = [_event_dict(e) for e in call.dynamics.events]
    return {
        "summary": {
            name: channel_summary(b, call.feature_config, config) for name, b in call.frames.items()
        },
        "dynamics": dyn,
        "timeline": timeline(call, config),
    }
