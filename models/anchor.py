"""The comparison anchor: openSMILE eGeMAPSv02 functionals + linear SVM, leave-one-speaker-out.

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


def loso_svm(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], speakers: Sequence[str]
) -> npt.NDArray[np.int64]:
    """LOSO predictions of a scaled, class-balanced linear SVM."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    spk = np.asarray(speakers)
    pred = np.zeros_like(y)
    for s in np.unique(spk):
        test = spk == s
        clf = make_pipeline(StandardScaler(), SVC(kernel="linear", C=1.0, class_weight="balanced"))
        clf.fit(x[~test], y[~test])
        pred[test] = clf.predict(x[test])
    return pred


def run_anchor(utts: Sequence[Utterance], cache: Path | None = None) -> dict[str, Any]:
    """UAR of the anchor, raw and speaker-z, LOSO over the speakers of ``utts``."""
    from models.train import uar

    x = egemaps(utts, cache)
    y = np.asarray([u.arousal == "high" for u in utts], np.int64)
    spk = [u.speaker for u in utts]
    return {
        "name": "openSMILE eGeMAPSv02 functionals + linear SVM (balanced, C=1, scaled)",
        "uar_raw": round(uar(y, loso_svm(x, y, spk)), 4),
        "uar_speaker_z": round(uar(y, loso_svm(speaker_z(x, spk), y, spk)), 4),
        "n_files": len(utts),
    }
