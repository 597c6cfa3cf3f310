"""The speaker-independent evaluation protocols of :mod:`models.folds`, run for the network:
per fold, a network fitted on the training speakers, scored on the clean files of the test
speakers (float and its int8 export, raw and baseline-relative), pooled over the folds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from edge.model.baseline import score_relative
from edge.model.runtime import ArousalModel
from models import export
from models.dataset import WindowSet, make_windows
from models.fitting import Corpus, TrainSettings, fit_fold
from models.folds import folds, pooled_uars, uar

log = logging.getLogger(__name__)


@dataclass
class FoldResult:
    speaker: str
    n_files: int
    uar: dict[str, float] = field(default_factory=dict)


def file_logits(logits: npt.NDArray[np.float32], ws: WindowSet, n_files: int) -> list[list[float]]:
    """Window logits grouped by file index."""
    out: list[list[float]] = [[] for _ in range(n_files)]
    for v, f in zip(logits.tolist(), ws.file.tolist(), strict=True):
        out[f].append(v)
    return out


def score_files(
    per_file: list[list[float]], speakers: Sequence[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(raw, baseline-relative) file scores; raw = mean window logit, NaN without windows."""
    raw = np.asarray([np.mean(v) if v else np.nan for v in per_file], np.float64)
    rel = np.full(len(per_file), np.nan)
    for s in sorted(set(speakers)):
        idx = [i for i, sp in enumerate(speakers) if sp == s]
        rel[idx] = score_relative([per_file[i] for i in idx])
    return raw, rel


def _uars(
    y: npt.NDArray[np.int64], raw: npt.NDArray[np.float64], rel: npt.NDArray[np.float64]
) -> tuple[float, float]:
    # A file without any speech window counts as "low" (the device would not cue).
    return uar(y, np.nan_to_num(raw, nan=-1.0) > 0), uar(y, np.nan_to_num(rel, nan=-1.0) > 0)


def run_protocol(
    corpus: Corpus,
    settings: TrainSettings,
    protocol: str,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One protocol of :mod:`models.folds`: per-fold and pooled UARs (float/int8 x
    raw/baseline) on the clean test files; test speakers normalised by their own statistics.
    ``checkpoint`` receives the result over the folds done so far after each fold."""
    fl = folds(corpus.utts, protocol)
    if settings.max_folds is not None:
        fl = fl[: settings.max_folds]
    y = np.asarray([u.arousal == "high" for u in corpus.utts], np.int64)
    spk = [u.speaker for u in corpus.utts]
    pooled = {
        f"{t}_{k}": np.full(len(corpus.utts), np.nan)
        for t in ("float", "int8")
        for k in ("raw", "baseline")
    }
    done = np.zeros(len(corpus.utts), bool)
    results: list[FoldResult] = []
    for k, f in enumerate(tqdm(fl, desc=protocol, unit="fold")):
        train_idx, test_idx = list(f.train), list(f.test)
        model, spec, ws_train = fit_fold(corpus, train_idx, settings, settings.seed + k)
        test_utts = [corpus.utts[i] for i in test_idx]
        ws = make_windows([corpus.batches["clean"][i] for i in test_idx], test_utts, spec)
        blob = export.to_int8_tflite(model, ws_train.x, seed=settings.seed)
        q = ArousalModel.from_bytes(blob, spec)
        fold = FoldResult(f.name, len(test_idx))
        test_spk = [spk[i] for i in test_idx]
        for tag, logits in (("float", export.float_logits(model, ws.x)), ("int8", q.logits(ws.x))):
            raw, rel = score_files(file_logits(logits, ws, len(test_idx)), test_spk)
            pooled[f"{tag}_raw"][test_idx] = raw
            pooled[f"{tag}_baseline"][test_idx] = rel
            fold.uar[f"{tag}_raw"], fold.uar[f"{tag}_baseline"] = _uars(y[test_idx], raw, rel)
        done[test_idx] = True
        log.info("%s fold %s: %s", protocol, f.name, fold.uar)
        tqdm.write(f"{protocol} {f.name}: " + " ".join(f"{a}={b:.3f}" for a, b in fold.uar.items()))
        results.append(fold)
        if checkpoint is not None and len(results) < len(fl):
            checkpoint(_summary(protocol, corpus, y, pooled, done, results, len(fl)))
    return _summary(protocol, corpus, y, pooled, done, results, len(fl))


def _summary(
    protocol: str,
    corpus: Corpus,
    y: npt.NDArray[np.int64],
    pooled: dict[str, npt.NDArray[np.float64]],
    done: npt.NDArray[np.bool_],
    results: list[FoldResult],
    n_folds: int,
) -> dict[str, Any]:
    res: dict[str, Any] = {"protocol": protocol, "metric": "UAR (file level)"}
    res["folds_done"], res["folds_total"] = len(results), n_folds
    cor = [u.corpus for u in corpus.utts]
    for key, v in pooled_uars(y, pooled, cor, done).items():
        res[f"uar_{key}"] = v
    for key in pooled:
        vals = [f.uar[key] for f in results]
        res[f"uar_{key}_fold_mean"] = round(float(np.mean(vals)), 4) if vals else None
    res["folds"] = [{"fold": f.speaker, "n_files": f.n_files, **f.uar} for f in results]
    res["n_files"] = int(done.sum())
    return res


def run_evaluation(corpus: Corpus, settings: TrainSettings) -> dict[str, Any]:
    """Every protocol of ``settings`` (skipped when ``max_folds == 0``)."""
    if settings.max_folds == 0:
        return {}
    return {p: run_protocol(corpus, settings, p) for p in settings.protocols}
