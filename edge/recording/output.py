"""Writing what ``poise analyze`` found: atomic files (JSON, per-hop CSV) and the text summary.

Every file is written to a temporary file in the target directory and renamed into place only
when complete, so a failure never leaves half a file (an existing file stays as it was).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import InputError
from edge.fileio import atomic_write, check_replaceable, is_stdout, json_safe
from edge.recording.analyze import CallAnalysis

log = logging.getLogger(__name__)

#: Columns of the ``--frames`` CSV, in order.
FRAME_COLUMNS = (
    "t",
    "channel",
    "vad",
    "f0_hz",
    "level_dbfs",
    "voicing",
    "nucleus",
    "syllables",
    "speech_rate_sps",
    "articulation_rate_sps",
    "pitch_sd_st",
    "jitter",
    "shimmer",
    "alpha_ratio_db",
    "hammarberg_db",
    "pause_s",
)


def check_writable(path: str | Path) -> Path:
    """Fail early (before a long analysis) when ``path`` cannot be created (``-``: stdout)."""
    if is_stdout(path):
        return Path(path)
    p = check_replaceable(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {p}: directory {parent} does not exist")
    if p.is_dir():
        raise InputError(f"cannot write {p}: it is a directory")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {p}: directory {parent} is not writable")
    return p


def write_json(path: str | Path, doc: dict[str, Any]) -> None:
    """Strict JSON (NaN refused after mapping it to null), written atomically."""
    text = json.dumps(json_safe(doc), indent=2, allow_nan=False)
    with atomic_write(path) as fh:
        fh.write(text + "\n")


def _fmt(x: np.ndarray, digits: int) -> list[str]:
    """Fixed-point strings; NaN becomes an empty cell."""
    spec = f".{digits}f"
    return [format(v, spec) if v == v else "" for v in x.astype(np.float64).tolist()]


def _flags(x: np.ndarray) -> list[str]:
    return ["1" if v else "0" for v in x.tolist()]


def write_frames_csv(path: str | Path, call: CallAnalysis) -> None:
    """One row per hop per channel (time-major: all channels of a hop, then the next hop)."""
    per_channel: list[list[str]] = []
    for name, b in call.frames.items():
        cols = [
            _fmt(b.t, 3),
            [name] * len(b),
            _flags(b.vad),
            _fmt(b.f0_hz, 1),
            _fmt(b.level_dbfs, 1),
            _fmt(b.voicing, 3),
            _flags(b.nucleus),
            _fmt(b.syllables, 4),
            _fmt(b.speech_rate_sps, 2),
            _fmt(b.articulation_rate_sps, 2),
            _fmt(b.pitch_sd_st, 2),
            _fmt(b.jitter, 4),
            _fmt(b.shimmer, 4),
            _fmt(b.alpha_ratio_db, 2),
            _fmt(b.hammarberg_db, 2),
            _fmt(b.pause_s, 2),
        ]
        per_channel.append([",".join(row) for row in zip(*cols, strict=True)])
    n = max((len(lines) for lines in per_channel), default=0)
    with atomic_write(path) as fh:
        fh.write(",".join(FRAME_COLUMNS) + "\n")
        for start in range(0, n, 10_000):  # interleave the channels hop by hop
            chunk = [lines[start : start + 10_000] for lines in per_channel]
            rows = [line for group in itertools.zip_longest(*chunk) for line in group if line]
            fh.write("\n".join(rows) + "\n")


def _cell(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        digits = 3 if abs(v) < 1 else 2 if abs(v) < 10 else 1 if abs(v) < 100 else 0
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


#: (label, key, unit) of the text summary table.
_ROWS = (
    ("duration", "duration_s", " s"),
    ("speech", "speech_s", " s"),
    ("syllables", "syllables", ""),
    ("intensity-peak nuclei", "peak_nuclei", ""),
    ("speech rate", "speech_rate_sps", " syl/s"),
    ("articulation rate", "articulation_rate_sps", " syl/s"),
    ("F0 median", "f0_median_hz", " Hz"),
    ("pitch SD", "pitch_sd_st", " st"),
    ("level median", "level_median_dbfs", " dBFS"),
    ("pauses", "pause_count", ""),
    ("mean pause", "pause_mean_s", " s"),
    ("jitter median", "jitter_median", ""),
    ("shimmer median", "shimmer_median", ""),
    ("alpha ratio median", "alpha_ratio_median_db", " dB"),
    ("Hammarberg median", "hammarberg_median_db", " dB"),
)


def format_summary(doc: dict[str, Any], title: str = "") -> str:
    """The readable per-call summary printed by ``poise analyze``."""
    out = io.StringIO()
    names = list(doc["summary"])
    if title:
        out.write(f"{title}\n\n")
    width = max(14, *(len(n) + 2 for n in names))
    out.write(f"{'':<20}" + "".join(f"{n:>{width}}" for n in names) + "\n")
    for label, key, unit in _ROWS:
        cells = "".join(f"{_cell(doc['summary'][n][key], unit):>{width}}" for n in names)
        out.write(f"{label:<20}{cells}\n")
    dyn = doc.get("dynamics")
    if dyn:
        roles = dyn["roles"]
        lat = dyn["response_latency"]
        dead = dyn["dead_air"]
        share = dyn["agent_talk_share"]
        out.write("\nconversation dynamics ")
        out.write(f"(agent = {roles['agent']}, customer = {roles['customer']})\n")
        lines = [
            (
                "talk time",
                f"agent {dyn['talk_s']['agent']:.1f} s, "
                f"customer {dyn['talk_s']['customer']:.1f} s"
                + (f" (agent share {share:.0%})" if share is not None else ""),
            ),
            ("overlap", f"{dyn['overlap_s']:.1f} s in {dyn['overlap_count']} stretch(es)"),
            (
                "interruptions",
                f"agent->customer {dyn['interruptions']['agent_interrupts_customer']}"
                f", customer->agent {dyn['interruptions']['customer_interrupts_agent']}",
            ),
            (
                "longest turn",
                f"agent {dyn['longest_turn_s']['agent']:.1f} s, "
                f"customer {dyn['longest_turn_s']['customer']:.1f} s",
            ),
            (
                "monologues",
                f"agent {len(dyn['monologues_s']['agent'])}, "
                f"customer {len(dyn['monologues_s']['customer'])}",
            ),
            (
                "dead air",
                f"{dead['count']} x, {dead['total_s']:.1f} s total, "
                f"longest {dead['longest_s']:.1f} s",
            ),
            (
                "response latency",
                "-"
                if lat["count"] == 0
                else f"median {lat['median_s']:.2f} s over {lat['count']} hand-over(s)",
            ),
        ]
        for label, text in lines:
            out.write(f"{label:<20}{text}\n")
    return out.getvalue()
