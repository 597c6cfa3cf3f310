"""Train, evaluate (speaker-independent protocols) and export the prosody model.

``python -m models.train`` runs the whole pipeline on EmoDB and RAVDESS: features of clean and
augmented copies through the device front-end (cached), the evaluation protocols of
:mod:`models.folds` (UAR of the float model and of its int8 export, raw and baseline-relative,
per fold; ``--protocols``), a final model on all speakers of both corpora, int8 export to
``models/prosody-v1.tflite`` and the card ``models/prosody-v1.json``.
Evaluation always uses the clean recordings of the held-out speakers; training uses all variants
of the others. Corpus-wide normalisation constants are fitted on the training speakers only;
with per-speaker input normalisation (the default) every speaker -- training or test -- is
normalised by their own :class:`~edge.model.speaker_norm.SpeakerNorm` over their files of that
copy, fitted with the device's code.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
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
from edge.model.speaker_norm import SpeakerNormSettings
from edge.settings.loader import to_mapping
from models import emodb, export, ravdess
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
from models.emodb import REPO_ROOT, Utterance
from models.folds import CORPORA, PROTOCOLS, folds, pooled_uars, uar
from models.network import NetworkSettings, build_network

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """One training run."""

    epochs: int = 8
    """Passes over the training windows (8 over both corpora: ~2x the windows of EmoDB alone,
    so about the steps of v1's 16 EmoDB epochs)."""
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
    spec: InputSpec = field(default_factory=lambda: InputSpec(speaker_norm=SpeakerNormSettings()))
    """Input windows (normalisation fitted per run; per-speaker input normalisation on)."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    """Network size."""
    corpora: tuple[str, ...] = CORPORA
    """Corpora to use (``emodb``, ``ravdess``)."""
    speakers: tuple[str, ...] = ()
    """Speakers to use (empty = all)."""
    protocols: tuple[str, ...] = PROTOCOLS
    """Evaluation protocols to run (:mod:`models.folds`; empty = none)."""
    max_folds: int | None = None
    """Run only the first N folds of each protocol (None = all; 0 = skip evaluation)."""


@dataclass
class FoldResult:
    speaker: str
    n_files: int
    uar: dict[str, float] = field(default_factory=dict)


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


def read_corpora(
    corpora: Sequence[str], emodb_dir: str | None = None, ravdess_dir: str | None = None
) -> list[Utterance]:
    """Labelled utterances of the named corpora, EmoDB first."""
    out: list[Utterance] = []
    if "emodb" in corpora:
        out += labelled(emodb.utterances(emodb_dir))
    if "ravdess" in corpora:
        out += labelled(ravdess.utterances(ravdess_dir))
    return out


@dataclass
class Corpus:
    """Cached front-end output of every labelled utterance and variant."""

    utts: list[Utterance]
    batches: dict[str, list[Any]]


def load_corpus(
    settings: TrainSettings,
    emodb_dir: str | None,
    cache: Path,
    workers: int,
    config: FeatureConfig,
    ravdess_dir: str | None = None,
) -> Corpus:
    utts = read_corpora(settings.corpora, emodb_dir, ravdess_dir)
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
    # Every copy is normalised per speaker with that copy's own statistics (make_windows), as
    # the device's norm follows the agent's headset and line.
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


def make_fixtures(model: Any, q: ArousalModel, corpus: Corpus, spec: InputSpec) -> dict[str, Any]:
    """8 fixed windows: first and last window of 4 utterances (a high and a low one of the first
    and of the last speaker); their float and int8 logits."""
    pool = [u for u in corpus.utts if u.corpus == "emodb"] or corpus.utts
    spk = sorted({u.speaker for u in pool})
    picks = [
        next(u for u in pool if u.speaker == s and u.arousal == a)
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
    return {
        "corpus": f"{picks[0].corpus} wav/ (clean, device path, a new speaker: prior-only "
        "input normalisation)",
        "windows": items,
    }


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
    ravdess_dir: str | None = None,
) -> dict[str, Any]:
    """The whole pipeline; returns the card document (also written next to ``out``).
    ``with_anchor`` adds the eGeMAPS + linear SVM anchor (same protocols, same folds)."""
    cfg = config if config is not None else FeatureConfig()
    t0 = time.time()
    corpus = load_corpus(settings, emodb, cache, workers, cfg, ravdess_dir)
    if with_anchor:
        from models.anchor import egemaps

        # openSMILE crashes (malloc) once TensorFlow has run in the process: features first.
        egemaps(corpus.utts, cache / "egemaps-v02.npz")
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    # The shipped model first, then the evaluation protocols; the card is rewritten after each
    # protocol, so an interrupted run still leaves a model whose card holds the figures of the
    # protocols that finished (and says which did, under evaluation).
    all_idx = list(range(len(corpus.utts)))
    model, spec, ws = fit_fold(corpus, all_idx, settings, settings.seed + 1000)
    blob = export.to_int8_tflite(model, ws.x, seed=settings.seed)
    q = ArousalModel.from_bytes(blob, spec)
    fixtures = make_fixtures(model, q, corpus, spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    tflite_path = out.with_suffix(".tflite")
    write_bytes_atomic(tflite_path, blob)
    invoke_ms = round(median_invoke_ms(q, ws.x), 4)
    train_minutes = round((time.time() - t0) / 60.0, 1)
    evaluation: dict[str, Any] = {}

    def write_card() -> dict[str, Any]:
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
                "corpora": sorted({u.corpus for u in corpus.utts}),
                "n_files": len(corpus.utts),
                "n_windows": len(ws),
                "params": int(model.count_params()),
                "minutes_final_model": train_minutes,
                "minutes_total": round((time.time() - t0) / 60.0, 1),
                "protocols_done": [p for p in evaluation if p != "anchor"],
            },
            evaluation=evaluation,
            fixtures=fixtures,
            invoke_ms=invoke_ms,
        )
        write_text_atomic(out.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
        return card

    card = write_card()
    log.info("wrote %s (%d bytes) and its card", tflite_path, len(blob))
    if settings.max_folds == 0:
        return card
    for p in settings.protocols:
        evaluation[p] = run_protocol(corpus, settings, p)
        if with_anchor:
            from models.anchor import run_anchor

            evaluation["anchor"] = run_anchor(
                corpus.utts,
                cache / "egemaps-v02.npz",
                [k for k in evaluation if k != "anchor"],
                settings.max_folds,
            )
        card = write_card()
        log.info("card updated with %s", p)
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
    ap.add_argument("--ravdess", help="RAVDESS folder (default: $POISE_RAVDESS_DIR or ...)")
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--protocols", default=",".join(PROTOCOLS), help="evaluation protocols")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "prosody-v1")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    ap.add_argument("--speakers", default="", help="comma-separated subset, e.g. 03,08,10")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--folds", type=int, default=None, help="LOSO folds to run (0 = none)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-anchor", action="store_true", help="skip the eGeMAPS+SVM anchor")
    ap.add_argument(
        "--no-speaker-norm",
        action="store_true",
        help="fixed corpus-wide input normalisation only (the v1 recipe, for comparison)",
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = TrainSettings(
        epochs=args.epochs,
        seed=args.seed,
        variants=tuple(v for v in args.variants.split(",") if v),
        speakers=tuple(s for s in args.speakers.split(",") if s),
        corpora=tuple(c for c in args.corpora.split(",") if c),
        protocols=tuple(p for p in args.protocols.split(",") if p),
        max_folds=args.folds,
    )
    if args.no_speaker_norm:
        settings = replace(settings, spec=InputSpec())
    if "clean" not in settings.variants:
        ap.error("--variants must include clean")
    bad = [p for p in settings.protocols if p not in PROTOCOLS]
    if bad:
        ap.error(f"unknown protocol(s) {', '.join(bad)}; choose from {', '.join(PROTOCOLS)}")
    card = run(
        settings,
        args.out,
        args.emodb,
        args.cache,
        args.workers,
        with_anchor=not args.no_anchor,
        ravdess_dir=args.ravdess,
    )
    for name, ev in card["evaluation"].items():
        print(name, json.dumps({k: v for k, v in ev.items() if k != "folds"}))
    print(f"model: {card['model']['size_bytes']} bytes, invoke {card['runtime']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
