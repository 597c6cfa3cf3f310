"""Speaker-independent evaluation protocols over EmoDB and RAVDESS, shared by Poise and the anchor.

Every figure is speaker-independent: a test speaker is never in the training set of the model
that scores them. Protocols (the same folds for Poise's network and the eGeMAPS anchor):

* ``loso-emodb`` / ``loso-ravdess``: leave one speaker out within one corpus;
* ``emodb-to-ravdess`` / ``ravdess-to-emodb``: leave one corpus out (train on one, test on the
  other, one fold);
* ``loso-union``: leave one speaker out of the union of both corpora (22 folds).

Scores are pooled over the test files of all folds of a protocol (file-level UAR), and for the
union also per corpus.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.emodb import Utterance

log = logging.getLogger(__name__)

#: Cheapest and most telling first (a run writes the card after each).
PROTOCOLS = ("emodb-to-ravdess", "ravdess-to-emodb", "loso-emodb", "loso-ravdess", "loso-union")
CORPORA = ("emodb", "ravdess")


@dataclass(frozen=True)
class Fold:
    """One train/test split (indices into the utterance list)."""

    name: str
    """Held-out speaker or corpus."""
    train: tuple[int, ...]
    """Training utterances."""
    test: tuple[int, ...]
    """Test utterances (speakers disjoint from ``train``)."""


def folds(utts: Sequence[Utterance], protocol: str) -> list[Fold]:
    """The folds of ``protocol`` over ``utts`` (empty when a corpus it needs is missing)."""
    corpus = [u.corpus for u in utts]
    spk = [u.speaker for u in utts]
    idx = range(len(utts))
    if protocol.startswith("loso-"):
        which = protocol[len("loso-") :]
        if which not in (*CORPORA, "union"):
            raise ValueError(f"unknown protocol {protocol!r}")
        pool = [i for i in idx if which == "union" or corpus[i] == which]
        out = []
        for s in _interleaved(sorted({spk[i] for i in pool})):
            train = tuple(i for i in pool if spk[i] != s)
            test = tuple(i for i in pool if spk[i] == s)
            out.append(Fold(s, train, test))
        return out
    src, sep, dst = protocol.partition("-to-")
    if not sep or src not in CORPORA or dst not in CORPORA or src == dst:
        raise ValueError(f"unknown protocol {protocol!r}")
    train = tuple(i for i in idx if corpus[i] == src)
    test = tuple(i for i in idx if corpus[i] == dst)
    return [Fold(f"{src}->{dst}", train, test)] if train and test else []


def _interleaved(speakers: list[str]) -> list[str]:
    """EmoDB and RAVDESS speakers alternating (so the first folds of an interrupted union run
    cover both corpora); one corpus stays in order."""
    a = [s for s in speakers if not s.startswith("r")]
    b = [s for s in speakers if s.startswith("r")]
    out = [x for pair in zip(a, b, strict=False) for x in pair]
    n = min(len(a), len(b))
    return out + a[n:] + b[n:]


def uar(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Unweighted average recall over the classes present in ``y_true``."""
    t, p = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    recalls = [float(np.mean(p[t == c] == c)) for c in np.unique(t)]
    return float(np.mean(recalls)) if recalls else float("nan")


def pooled_uars(
    y: npt.NDArray[np.int64],
    scores: dict[str, npt.NDArray[np.float64]],
    corpus: Sequence[str],
    done: npt.NDArray[np.bool_],
) -> dict[str, float | dict[str, float]]:
    """UAR of each score column (``> 0`` is high; NaN counts as low) over the ``done`` files,
    plus a per-corpus breakdown when both corpora are among them."""
    out: dict[str, float | dict[str, float]] = {}
    cor = np.asarray(corpus)
    present = sorted(set(cor[done].tolist()))
    for key, v in scores.items():
        pred = np.nan_to_num(v, nan=-1.0) > 0
        out[key] = round(uar(y[done], pred[done]), 4)
        if len(present) > 1:
            out[f"{key}_by_corpus"] = {
                c: round(uar(y[done & (cor == c)], pred[done & (cor == c)]), 4) for c in present
            }
    return out
