"""Evaluate the shipped model on labelled recordings through the exact device code path.

Each file: WAV at any rate (first channel) -> 16 kHz (soxr) -> :class:`FrontEnd` ->
:class:`WindowBuilder` -> int8 :class:`ArousalModel` -> window logits. A file's raw score is the
mean logit of its speech windows; its baseline-relative score comes from
:func:`edge.model.baseline.score_relative` over that speaker's files in the manifest. A file with
no speech window scores "low". UAR is the mean of the recalls of ``high`` and ``low``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import InputError
from edge.features.config import FeatureConfig
from edge.model.baseline import BaselineSettings, score_relative
from edge.model.inputs import WindowBuilder
from edge.model.runtime import ArousalModel

log = logging.getLogger(__name__)

LABELS = ("high", "low")


@dataclass(frozen=True)
class ManifestRow:
    """One labelled recording."""

    path: Path
    """The WAV file (resolved against the manifest's folder)."""
    speaker: str
    """Speaker id (baselines are per speaker)."""
    label: str
    """``high`` or ``low`` arousal."""


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """Parse a ``path,speaker,label`` CSV; every problem names the row."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"manifest not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read manifest: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    need = {"path", "speaker", "label"}
    if reader.fieldnames is None or not need <= {f.strip() for f in reader.fieldnames}:
        raise InputError(f"{p}: header must have columns path,speaker,label")
    rows = []
    for n, rec in enumerate(reader, start=2):
        if None in rec:
            extra = len(rec[None]) if isinstance(rec[None], list) else 1
            raise InputError(
                f"{p} row {n}: {len(reader.fieldnames) + extra} fields but the header has "
                f"{len(reader.fieldnames)} (quote paths that contain commas)"
            )
        rec = {(k or "").strip(): (v or "").strip() for k, v in rec.items()}
        where = f"{p} row {n}"
        if not rec["path"]:
            raise InputError(f"{where}: empty path")
        if not rec["speaker"]:
            raise InputError(f"{where}: empty speaker")
        label = rec["label"].lower()
        if label not in LABELS:
            raise InputError(f"{where}: label {rec['label']!r} is not 'high' or 'low'")
        f = Path(rec["path"])
        f = f if f.is_absolute() else p.parent / f
        if not f.is_file():
            raise InputError(f"{where}: file not found: {f}")
        rows.append(ManifestRow(f, rec["speaker"], label))
    if not rows:
        raise InputError(f"{p}: manifest has no rows")
    return rows


def read_mono_16k(path: Path, sample_rate: int) -> npt.NDArray[np.float32]:
    """First channel of a WAV, resampled to ``sample_rate``."""
    from edge.audio.resample import resample
    from edge.audio.wav import read_wav

    x, sr = read_wav(path)
    return resample(np.ascontiguousarray(x[:, 0]), sr, sample_rate)


def file_window_logits(path: Path, model: ArousalModel, config: FeatureConfig) -> list[float]:
    """Logits of every speech window of one file, streamed as the device would."""
    from edge.features.frontend import FrontEnd

    x = read_mono_16k(path, config.sample_rate)
    fe = FrontEnd(config)
    wb = WindowBuilder(model.spec)
    block = config.sample_rate // 10  # 100 ms blocks, like a live source
    wins = []
    for i in range(0, len(x), block):
        wins += wb.push(fe.process(x[i : i + block]))
    wins += wb.push(fe.flush())
    return [model.logit(w.x) for w in wins]


def uar(y_true: list[str], y_pred: list[str]) -> float:
    """Unweighted average recall over the labels present."""
    recalls = []
    for c in LABELS:
        idx = [i for i, t in enumerate(y_true) if t == c]
        if idx:
            recalls.append(sum(y_pred[i] == c for i in idx) / len(idx))
    return float(np.mean(recalls))


def evaluate(
    rows: list[ManifestRow],
    model: ArousalModel,
    config: FeatureConfig,
    baseline: BaselineSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Scores and UARs of ``rows`` (see module doc)."""
    logits = []
    for i, r in enumerate(rows):
        logits.append(file_window_logits(r.path, model, config))
        if progress:
            progress(i + 1, len(rows))
    raw = [float(np.mean(v)) if v else float("nan") for v in logits]
    rel = [float("nan")] * len(rows)
    settings = baseline if baseline is not None else BaselineSettings(capacity=1_000_000)
    for s in sorted({r.speaker for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.speaker == s]
        for i, v in zip(idx, score_relative([logits[i] for i in idx], settings), strict=True):
            rel[i] = v

    def label(v: float) -> str:
        return "high" if np.isfinite(v) and v > 0 else "low"

    truth = [r.label for r in rows]
    files = [
        {
            "path": str(r.path),
            "speaker": r.speaker,
            "label": r.label,
            "windows": len(v),
            "score_raw": None if not np.isfinite(a) else round(a, 4),
            "score_baseline": None if not np.isfinite(b) else round(b, 4),
        }
        for r, v, a, b in zip(rows, logits, raw, rel, strict=True)
    ]
    return {
        "n": len(rows),
        "speakers": len({r.speaker for r in rows}),
        "uar_raw": round(uar(truth, [label(v) for v in raw]), 4),
        "uar_baseline": round(uar(truth, [label(v) for v in rel]), 4),
        "files_without_speech": sum(1 for v in logits if not v),
        "files": files,
    }
