"""Train, evaluate (leave-one-speaker-out) and export the prosody model.

``python -m models.train`` runs the whole pipeline on EmoDB: features of clean and augmented
copies through the device front-end (cached), LOSO over the 10 speakers (UAR of the float model
and of its int8 export, raw and baseline-relative, per fold), a final model on all speakers,
int8 export to ``models/prosody-v1.tflite`` and the card ``models/prosody-v1.json``.
Evaluation always uses the clean recordings of the held-out speaker; training uses all variants
of the others. Normalisation constants are fitted on the training speakers only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from edge.features.config import FeatureConfig
from edge.fileio import write_bytes_atomic, write_text_atomic
from edge.model.baseline import score_relative
from edge.model.inputs import InputSpec, stack, windows_from_batch
from edge.model.runtime import ArousalModel
from edge.settings.loader import to_mapping
from models import export
from models.augment import VARIANTS
from models.dataset import (
    DEFAULT_CACHE,
    DEFAULT_FRONTEND,
    WindowSet,
    build_cache,
    fit_spec,
    frontend_source_hash,
    labelled,
    load_batches,
    make_windows,
)
from models.emodb import REPO_ROOT, Utterance, utterances
from models.network import NetworkSettings, build_network

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """One training run."""

    epochs: int = 16
    """Passes over the training windows."""
    batch_size: int = 64
    """Windows per gradient step."""
    learning_rate: float = 2e-3
    """Peak Adam learning rate (cosine decay to 5 % over the run)."""
    seed: int = 0
    """Seed of weights, shuffling and augmentation."""
    variants: tuple[str, ...] = VARIANTS
    """Augmentation recipes trained on (``clean`` included)."""
    train_stride_hops: int = 25
    """Window stride for training windows (the device uses ``spec.stride_hops``)."""
    spec: InputSpec = field(default_factory=InputSpec)
    """Input windows (normalisation fitted per run)."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    """Network size."""
    speakers: tuple[str, ...] = ()
    """Speakers to use (empty = all)."""
    max_folds: int | None = None
    """Run only the first N LOSO folds (None = all; 0 = skip LOSO)."""


@dataclass
class FoldResult:
    speaker: str
    n_files: int
    uar: dict[str, float] = field(default_factory=dict)


def uar(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Unweighted average recall over the classes present in ``y_true``."""
    t, p = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    recalls = [float(np.mean(p[t == c] == c)) for c in np.unique(t)]
    return float(np.mean(recalls)) if recalls else float("nan")


def train_network(ws: WindowSet, spec: InputSpec, settings: TrainSettings, seed: int) -> Any:
    """Fit a fresh network on ``ws``."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_network(spec.shape, settings.network)
    steps = max(1, int(np.ceil(len(ws) / settings.batch_size))) * settings.epochs
    lr = keras.optimizers.schedules.CosineDecay(settings.learning_rate, steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    pos = float(ws.y.mean())
    weights = {0: 0.5 / max(1.0 - pos, 1e-3), 1: 0.5 / max(pos, 1e-3)}
    model.fit(
        ws.x,
        ws.y,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        class_weight=weights,
        shuffle=True,
        verbose=0,
    )
    return model


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


@dataclass
class Corpus:
    """Cached front-end output of every labelled utterance and variant."""

    utts: list[Utterance]
    batches: dict[str, list[Any]]


def load_corpus(
    settings: TrainSettings, emodb: str | None, cache: Path, workers: int, config: FeatureConfig
) -> Corpus:
    utts = labelled(utterances(emodb))
    if settings.speakers:
        utts = [u for u in utts if u.speaker in settings.speakers]
    base = build_cache(
        utts, settings.variants, config, DEFAULT_FRONTEND, cache, workers, settings.seed
    )
    return Corpus(utts, {v: load_batches(base, utts, v) for v in settings.variants})


def fit_fold(
    corpus: Corpus, train_idx: list[int], settings: TrainSettings, seed: int
) -> tuple[Any, InputSpec, WindowSet]:
    """Normalisation + network trained on the utterances ``train_idx`` (all variants)."""
    spec = fit_spec([corpus.batches["clean"][i] for i in train_idx], settings.spec)
    train_spec = replace(spec, stride_hops=settings.train_stride_hops)
    utts = [corpus.utts[i] for i in train_idx]
    parts = [
        make_windows([corpus.batches[v][i] for i in train_idx], utts, train_spec)
        for v in settings.variants
    ]
    ws = WindowSet(
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        speaker=np.concatenate([p.speaker for p in parts]),
        file=np.concatenate([p.file for p in parts]),
    )
    return train_network(ws, spec, settings, seed), spec, ws


def run_loso(corpus: Corpus, settings: TrainSettings) -> dict[str, Any]:
    """Leave-one-speaker-out: per-fold and pooled UARs (float/int8 x raw/baseline)."""
    speakers = sorted({u.speaker for u in corpus.utts})
    if settings.max_folds is not None:
        speakers = speakers[: settings.max_folds]
    y = np.asarray([u.arousal == "high" for u in corpus.utts], np.int64)
    spk = [u.speaker for u in corpus.utts]
    pooled = {
        f"{t}_{k}": np.full(len(corpus.utts), np.nan)
        for t in ("float", "int8")
        for k in ("raw", "rel")
    }
    folds: list[FoldResult] = []
    for k, s in enumerate(tqdm(speakers, desc="LOSO folds", unit="fold")):
        train_idx = [i for i, sp in enumerate(spk) if sp != s]
        test_idx = [i for i, sp in enumerate(spk) if sp == s]
        model, spec, ws_train = fit_fold(corpus, train_idx, settings, settings.seed + k)
        test_utts = [corpus.utts[i] for i in test_idx]
        ws = make_windows([corpus.batches["clean"][i] for i in test_idx], test_utts, spec)
        blob = export.to_int8_tflite(model, ws_train.x, seed=settings.seed)
        q = ArousalModel.from_bytes(blob, spec)
        fold = FoldResult(s, len(test_idx))
        for tag, logits in (("float", export.float_logits(model, ws.x)), ("int8", q.logits(ws.x))):
            raw, rel = score_files(file_logits(logits, ws, len(test_idx)), [s] * len(test_idx))
            pooled[f"{tag}_raw"][test_idx] = raw
            pooled[f"{tag}_rel"][test_idx] = rel
            fold.uar[f"{tag}_raw"], fold.uar[f"{tag}_baseline"] = _uars(y[test_idx], raw, rel)
        log.info("fold %s: %s", s, fold.uar)
        tqdm.write(f"fold {s}: " + " ".join(f"{a}={b:.3f}" for a, b in fold.uar.items()))
        folds.append(fold)
    done = np.isin(spk, speakers)
    res: dict[str, Any] = {"protocol": "leave-one-speaker-out", "metric": "UAR (file level)"}
    for tag in ("float", "int8"):
        r, b = _uars(y[done], pooled[f"{tag}_raw"][done], pooled[f"{tag}_rel"][done])
        res[f"uar_{tag}_raw"], res[f"uar_{tag}_baseline"] = round(r, 4), round(b, 4)
        for kind in ("raw", "baseline"):
            vals = [f.uar[f"{tag}_{kind}"] for f in folds]
            res[f"uar_{tag}_{kind}_fold_mean"] = round(float(np.mean(vals)), 4) if vals else None
    res["folds"] = [{"speaker": f.speaker, "n_files": f.n_files, **f.uar} for f in folds]
    res["n_files"] = int(done.sum())
    return res


def make_fixtures(model: Any, q: ArousalModel, corpus: Corpus, spec: InputSpec) -> dict[str, Any]:
    """8 fixed windows: first and last window of 4 utterances (a high and a low one of the first
    and of the last speaker); their float and int8 logits."""
    spk = sorted({u.speaker for u in corpus.utts})
    picks = [
        next(u for u in corpus.utts if u.speaker == s and u.arousal == a)
        for s in (spk[0], spk[-1])
        for a in ("high", "low")
    ]
    items, xs = [], []
    for u in picks:
        wins = windows_from_batch(corpus.batches["clean"][corpus.utts.index(u)], spec)
        for j in (0, len(wins) - 1)[: len(wins)]:
            items.append({"file": u.path.name, "window": j})
            xs.append(wins[j].x)
    x = stack([], spec) if not xs else np.stack(xs)
    f, i8 = export.float_logits(model, x), q.logits(x)
    for it, a, b in zip(items, f.tolist(), i8.tolist(), strict=True):
        it["float_logit"], it["int8_logit"] = round(a, 5), round(b, 5)
    return {"corpus": "EmoDB wav/ (clean, device path)", "windows": items}


def median_invoke_ms(q: ArousalModel, x: npt.NDArray[np.float32], n: int = 2000) -> float:
    """Median wall time of one quantise+invoke+dequantise on one thread."""
    w = x[0] if len(x) else np.zeros(q.spec.shape, np.float32)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        q.logit(w)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000.0)


def run(
    settings: TrainSettings,
    out: Path,
    emodb: str | None = None,
    cache: Path = DEFAULT_CACHE,
    workers: int = 2,
    config: FeatureConfig | None = None,
    with_anchor: bool = False,
) -> dict[str, Any]:
    """The whole pipeline; returns the card document (also written next to ``out``).
    ``with_anchor`` adds the eGeMAPS + linear SVM LOSO anchor (same files) to the card."""
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    cfg = config if config is not None else FeatureConfig()
    t0 = time.time()
    corpus = load_corpus(settings, emodb, cache, workers, cfg)
    evaluation = run_loso(corpus, settings) if settings.max_folds != 0 else {}
    if with_anchor:
        from models.anchor import run_anchor

        evaluation["anchor"] = run_anchor(corpus.utts, cache / "egemaps-v02.npz")
    all_idx = list(range(len(corpus.utts)))
    model, spec, ws = fit_fold(corpus, all_idx, settings, settings.seed + 1000)
    blob = export.to_int8_tflite(model, ws.x, seed=settings.seed)
    q = ArousalModel.from_bytes(blob, spec)
    fixtures = make_fixtures(model, q, corpus, spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    tflite_path = out.with_suffix(".tflite")
    write_bytes_atomic(tflite_path, blob)
    card = export.build_card(
        tflite_name=tflite_path.name,
        blob=blob,
        input_info=q.input_info.to_dict(),
        output_info=q.output_info.to_dict(),
        feature_config=to_mapping(cfg),
        feature_digest=cfg.digest(),
        frontend_source=frontend_source_hash(),
        input_spec=spec.to_dict(),
        training={
            "settings": _jsonable(asdict(settings)),
            "speakers": sorted({u.speaker for u in corpus.utts}),
            "n_files": len(corpus.utts),
            "n_windows": len(ws),
            "params": int(model.count_params()),
            "minutes": round((time.time() - t0) / 60.0, 1),
        },
        evaluation=evaluation,
        fixtures=fixtures,
        invoke_ms=round(median_invoke_ms(q, ws.x), 4),
    )
    card_path = out.with_suffix(".json")
    write_text_atomic(card_path, json.dumps(card, indent=1) + "\n")
    log.info("wrote %s (%d bytes) and %s", tflite_path, len(blob), card_path)
    return card


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    ap.add_argument("--emodb", help="EmoDB folder (default: $POISE_EMODB_DIR or ../shared/...)")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "prosody-v1")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    ap.add_argument("--speakers", default="", help="comma-separated subset, e.g. 03,08,10")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--folds", type=int, default=None, help="LOSO folds to run (0 = none)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-anchor", action="store_true", help="skip the eGeMAPS+SVM anchor")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = TrainSettings(
        epochs=args.epochs,
        seed=args.seed,
        variants=tuple(v for v in args.variants.split(",") if v),
        speakers=tuple(s for s in args.speakers.split(",") if s),
        max_folds=args.folds,
    )
    if "clean" not in settings.variants:
        ap.error("--variants must include clean")
    card = run(
        settings, args.out, args.emodb, args.cache, args.workers, with_anchor=not args.no_anchor
    )
    ev = card["evaluation"]
    print(json.dumps({k: v for k, v in ev.items() if k != "folds"}, indent=1))
    for f in ev.get("folds", []):
        print(
            " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in f.items())
        )
    print(f"model: {card['model']['size_bytes']} bytes, invoke {card['runtime']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
