"""The ``--plot`` PNG of ``poise analyze``: pitch, level and speech rate over time per channel,
speech regions shaded, overlaps and interruptions marked. matplotlib is imported only here."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import ConfigError
from edge.recording.analyze import CallAnalysis
from edge.recording.output import atomic_write

log = logging.getLogger(__name__)

_COLOURS = ("#1f6fb4", "#d9541e", "#2a9d3c", "#8e44ad")

#: Longer calls are decimated to about this many points per line (level keeps its peaks).
MAX_POINTS = 6000

#: At most this many interruptions get a text label.
MAX_LABELS = 12


def _decimate(x: np.ndarray, k: int, how: Any) -> np.ndarray:
    """Reduce consecutive groups of ``k`` values with ``how`` (NaN-aware for mean)."""
    if k == 1:
        return np.asarray(x)
    n = -(-x.size // k) * k
    pad = np.full(n, np.nan)
    pad[: x.size] = x
    g = pad.reshape(-1, k)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fn = {np.mean: np.nanmean, np.max: np.nanmax, np.min: np.nanmin}.get(how, how)
        return np.asarray(fn(g, axis=1))


def _spans(mask: np.ndarray, step_s: float) -> list[tuple[float, float]]:
    """(start, width) in seconds of the True runs of ``mask`` (one element = ``step_s``)."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [
        (s * step_s, (e - s) * step_s) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def write_plot(path: str | Path, call: CallAnalysis, title: str = "") -> None:
    """Render the call to a PNG at ``path`` (atomically)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "--plot needs matplotlib: pip install matplotlib (or 'poise[dev]')"
        ) from None

    names = list(call.frames)
    fig, axes = plt.subplots(
        3 + len(names), 1, figsize=(13, 8.5), sharex=True,
        gridspec_kw={"height_ratios": [3, 3, 3] + [0.45] * len(names)},
    )  # fmt: skip
    ax_f0, ax_lvl, ax_rate, *ax_vad = axes
    n_max = max((len(b) for b in call.frames.values()), default=0)
    k = max(1, -(-n_max // MAX_POINTS))  # decimation step for long calls
    hop = call.feature_config.hop_s
    for i, name in enumerate(names):
        b = call.frames[name]
        colour = _COLOURS[i % len(_COLOURS)]
        spans = _spans(_decimate(b.vad.astype(np.float64), k, np.mean) >= 0.5, k * hop)
        for ax in (ax_f0, ax_lvl, ax_rate):
            ax.broken_barh(
                spans, (0, 1), transform=ax.get_xaxis_transform(),
                color=colour, alpha=0.08, linewidth=0,
            )  # fmt: skip
        ax_vad[i].broken_barh(spans, (0, 1), color=colour, linewidth=0)
        voiced = np.flatnonzero(b.vad & np.isfinite(b.f0_hz))[::k]
        ax_f0.plot(b.t[voiced], b.f0_hz[voiced], ".", ms=1.6, color=colour, label=name)
        t_ds = _decimate(b.t, k, np.min)
        ax_lvl.plot(t_ds, _decimate(b.level_dbfs, k, np.max), lw=0.6, color=colour, label=name)
        ax_rate.plot(
            t_ds, _decimate(b.speech_rate_sps, k, np.mean), lw=1.2, color=colour, label=name
        )
        ax_vad[i].set_yticks([])
        ax_vad[i].set_ylim(0, 1)
        ax_vad[i].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    _mark_dynamics(call, [ax_f0, ax_lvl, ax_rate, *ax_vad])
    ax_f0.set_ylabel("F0 (Hz)")
    ax_f0.set_yscale("log")
    ax_f0.set_ylim(call.feature_config.f0_min_hz, call.feature_config.f0_max_hz)
    ticks = [60, 80, 100, 150, 200, 300, 400, 500]
    ax_f0.set_yticks(ticks, [str(t) for t in ticks])
    ax_f0.minorticks_off()
    ax_lvl.set_ylabel("level (dBFS)")
    lv = np.concatenate([b.level_dbfs for b in call.frames.values()])
    lv = lv[np.isfinite(lv)]
    lo = float(np.percentile(lv, 2)) if lv.size else -90.0
    ax_lvl.set_ylim(max(lo - 5, -100), 0)
    ax_rate.set_ylabel("speech rate (syl/s)")
    ax_rate.set_ylim(bottom=0)
    for ax in (ax_f0, ax_lvl, ax_rate):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8, ncol=2, framealpha=0.8)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, max(call.duration_s, 0.01))
    fig.suptitle(title or "poise analyze", fontsize=12)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)


def _mark_dynamics(call: CallAnalysis, axes: list[Any]) -> None:
    """Overlaps as dark bands on the speech-activity strips, dead air as grey bands, and
    interruptions as red lines."""
    if call.dynamics is None:
        return
    overlaps: list[tuple[float, float]] = []
    dead: list[tuple[float, float]] = []
    cuts: list[tuple[float, str]] = []
    start: float | None = None
    for e in call.dynamics.events:
        if e.kind == "overlap_start":
            start = e.t
        elif e.kind == "overlap_end" and start is not None:
            overlaps.append((start, e.t - start))
            start = None
        elif e.kind == "dead_air":
            dead.append((e.t, e.duration_s))
        elif e.kind == "interruption":
            cuts.append((e.t, str(e.side)))
    for ax in axes[3:]:
        ax.broken_barh(overlaps, (0, 1), color="black", alpha=0.35, linewidth=0)
    for ax in axes[:3]:
        ax.broken_barh(
            dead, (0, 1), transform=ax.get_xaxis_transform(), color="grey", alpha=0.18, linewidth=0
        )
        ax.vlines(
            [t for t, _ in cuts], 0, 1, transform=ax.get_xaxis_transform(),
            color="red", lw=1.0, alpha=0.8,
        )  # fmt: skip
    for ax in axes[3:]:
        ax.vlines([t for t, _ in cuts], 0, 1, color="red", lw=1.0, alpha=0.8)
    for t0, _ in dead[:MAX_LABELS]:
        axes[0].annotate(
            "dead air", (t0, 0.0), xycoords=("data", "axes fraction"),
            xytext=(3, 4), textcoords="offset points", color="dimgrey", fontsize=8,
        )  # fmt: skip
    for t0, side in cuts[:MAX_LABELS]:
        axes[0].annotate(
            f"{side} interrupts", (t0, 1.0), xycoords=("data", "axes fraction"),
            xytext=(3, -12), textcoords="offset points", color="red", fontsize=8,
        )  # fmt: skip
