"""The comparison anchor: openSMILE eGeMAPSv02 functionals + linear SVM, on Poise's folds.

This is the standard, well-known recipe Poise's network has to beat. Features are the 88
eGeMAPSv02 functionals of each whole (original-rate) file; the classifier is a standard-scaled,
class-balanced linear SVM (C = 1). "Raw" uses the features as they are; "speaker-z" first
z-normalises every feature per speaker over that speaker's files (the anchor's counterpart of
Poise's per-speaker baseline).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from models.emodb import Utterance
from models.folds import Fold, folds, pooled_uars, uar

log = logging.getLogger(__name__)


def egemaps(utts: Sequence[Utterance], cache: Path | None = None) -> npt.NDArray[np.float64]:
    """eGeMAPSv02 functionals, shape (n, 88); cached by file name in ``cache`` if given."""
    stems = [u.stem for u in utts]
    if cache is not None and cache.exists():
        with np.load(cache) as z:
            have = dict(zip(z["stems"].tolist(), z["x"], strict=True))
        if all(s in have for s in stems):
            return np.stack([have[s] for s in stems])
    import opensmile

    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    rows = [
        smile.process_file(str(u.path)).to_numpy()[0]
        for u in tqdm(utts, desc="eGeMAPS", unit="file")
    ]
    x = np.asarray(rows, np.float64)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, stems=np.asarray(stems), x=x)
    return x


def speaker_z(x: npt.NDArray[np.float64], speakers: Sequence[str]) -> npt.NDArray[np.float64]:
    """z-normalise each feature within each speaker."""
    out = np.empty_like(x)
    spk = np.asarray(speakers)
    for s in np.unique(spk):
        m = spk == s
        mu, sd = x[m].mean(axis=0), x[m].std(axis=0)
        out[m] = (x[m] - mu) / np.where(sd > 1e-12, sd, 1.0)
    return out


def fold_svm(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], fl: Sequence[Fold]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], list[float]]:
    """Predictions of a scaled, class-balanced linear SVM on the test files of each fold
    (trained on that fold's training files); which files were tested; per-fold UARs."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    pred = np.zeros_like(y)
    done = np.zeros(len(y), bool)
    per_fold = []
    for f in fl:
        tr, te = list(f.train), list(f.test)
        clf = make_pipeline(StandardScaler(), SVC(kernel="linear", C=1.0, class_weight="balanced"))
        clf.fit(x[tr], y[tr])
        pred[te] = clf.predict(x[te])
        done[te] = True
        per_fold.append(uar(y[te], pred[te]))
    return pred, done, per_fold


def run_anchor(
    utts: Sequence[Utterance],
    cache: Path | None = None,
    protocols: Sequence[str] = ("loso-emodb",),
    max_folds: int | None = None,
) -> dict[str, Any]:
    """UAR of the anchor, raw and speaker-z, on the folds of each protocol over ``utts``."""
    x = egemaps(utts, cache)
    xz = speaker_z(x, [u.speaker for u in utts])
    y = np.asarray([u.arousal == "high" for u in utts], np.int64)
    cor = [u.corpus for u in utts]
    out: dict[str, Any] = {
        "name": "openSMILE eGeMAPSv02 functionals + linear SVM (balanced, C=1, scaled)",
    }
    for p in protocols:
        fl = folds(utts, p)[:max_folds]
        res: dict[str, Any] = {}
        for key, feats in (("raw", x), ("speaker_z", xz)):
            pred, done, per_fold = fold_svm(feats, y, fl)
            for k, v in pooled_uars(y, {key: pred.astype(np.float64) - 0.5}, cor, done).items():
                res[f"uar_{k}"] = v
            res[f"uar_{key}_fold_mean"] = round(float(np.mean(per_fold)), 4) if fl else None
            res["n_files"] = int(done.sum())
        out[p] = res
    return out
