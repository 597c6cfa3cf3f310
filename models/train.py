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
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.features.config import FeatureConfig
from edge.fileio import write_bytes_atomic, write_text_atomic
from edge.model.inputs import InputSpec, stack, windows_from_batch
from edge.model.runtime import ArousalModel
from edge.settings.loader import to_mapping
from models import export
from models.augment import VARIANTS
from models.dataset import DEFAULT_CACHE, frontend_source_hash
from models.emodb import REPO_ROOT
from models.fitting import Corpus, TrainSettings, fit_fold, load_corpus
from models.folds import CORPORA, PROTOCOLS
from models.protocol_eval import run_protocol

__all__ = ["TrainSettings", "main", "run"]

log = logging.getLogger(__name__)


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

    try:
        tf.config.threading.set_inter_op_parallelism_threads(2)
        tf.config.threading.set_intra_op_parallelism_threads(2)
    except RuntimeError:  # TensorFlow already ran in this process: keep its thread pools
        log.info("TensorFlow already initialised; its thread settings are kept")
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
