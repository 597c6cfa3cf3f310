"""The ``--plot`` PNG of ``poise analyze``: pitch, level and speech rate over time per channel,
speech regions shaded, overlaps and interruptions marked. matplotlib is imported only here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from edge.analyze import CallAnalysis
from edge.analyze_output import atomic_write
from edge.errors import ConfigError

log = logging.getLogger(__name__)

_COLOURS = ("#1f6fb4", "#d9541e", "#2a9d3c", "#8e44ad")


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
    for i, name in enumerate(names):
        b = call.frames[name]
        colour = _COLOURS[i % len(_COLOURS)]
        t = b.t
        speech = b.vad
        for ax in (ax_f0, ax_lvl, ax_rate):
            ax.fill_between(
                t, 0, 1, where=speech, transform=ax.get_xaxis_transform(),
                color=colour, alpha=0.08, linewidth=0, step="mid",
            )  # fmt: skip
        f0 = np.where(speech, b.f0_hz, np.nan)
        ax_f0.plot(t, f0, ".", ms=1.6, color=colour, label=name)
        ax_lvl.plot(t, b.level_dbfs, lw=0.6, color=colour, label=name)
        rate = np.where(np.isfinite(b.speech_rate_sps), b.speech_rate_sps, np.nan)
        ax_rate.plot(t, rate, lw=1.2, color=colour, label=name)
        ax_vad[i].fill_between(t, 0, 1, where=speech, color=colour, step="mid", linewidth=0)
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
    start: float | None = None
    for e in call.dynamics.events:
        if e.kind == "overlap_start":
            start = e.t
        elif e.kind == "overlap_end" and start is not None:
            for ax in axes[3:]:
                ax.axvspan(start, e.t, color="black", alpha=0.35, linewidth=0)
            start = None
        elif e.kind == "dead_air":
            for ax in axes[:3]:
                ax.axvspan(e.t, e.t + e.duration_s, color="grey", alpha=0.18, linewidth=0)
            axes[0].annotate(
                "dead air", (e.t, 0.0), xycoords=("data", "axes fraction"),
                xytext=(3, 4), textcoords="offset points", color="dimgrey", fontsize=8,
            )  # fmt: skip
        elif e.kind == "interruption":
            for ax in axes:
                ax.axvline(e.t, color="red", lw=1.0, alpha=0.8)
            axes[0].annotate(
                f"{e.side} interrupts", (e.t, 1.0), xycoords=("data", "axes fraction"),
                xytext=(3, -12), textcoords="offset points", color="red", fontsize=8,
            )  # fmt: skip
