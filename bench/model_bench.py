"""Prosody model benchmark: LOSO UAR of Poise (float/int8, raw/baseline) vs the eGeMAPS anchor,
model size and int8 invoke time, against the issue #3 targets.

    .venv/bin/python -m bench.model_bench            # anchor LOSO now; Poise LOSO from the card
    .venv/bin/python -m bench.model_bench --retrain  # Poise LOSO retrained now too (~20 min)

Without ``--retrain`` Poise's LOSO numbers are the ones ``make model`` measured when it trained
the shipped model (stored in its card); the anchor's LOSO, size and invoke time are measured in
this run. Writes ``bench/results/model_bench.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from typing import Any

import numpy as np

from bench.results import write_results
from edge.model.card import DEFAULT_MODEL
from edge.model.runtime import ArousalModel

TARGETS = {
    "uar_int8_raw": 0.90,
    "uar_int8_baseline": 0.965,
    "max_float_int8_gap": 0.01,
    "max_size_bytes": 100 * 1024,
    "max_invoke_ms": 0.5,
}


def invoke_times(model: ArousalModel, n: int) -> dict[str, float]:
    """Median/p90 ms of the full device call (quantise, invoke, dequantise) and bare invoke."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, model.spec.shape).astype(np.float32)
    q = np.zeros(model.input_info.shape, np.int8)
    for _ in range(200):  # warm-up
        model.logit(x)
    full, bare = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        model.logit(x)
        full.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.runner.invoke(q)
        bare.append(time.perf_counter() - t0)
    return {
        "logit_median_ms": statistics.median(full) * 1e3,
        "logit_p90_ms": float(np.percentile(full, 90)) * 1e3,
        "invoke_median_ms": statistics.median(bare) * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.model_bench", description=__doc__)
    ap.add_argument("--retrain", action="store_true", help="retrain Poise's LOSO in this run")
    ap.add_argument("--invokes", type=int, default=5000)
    ap.add_argument("--emodb", default=None)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    from models.anchor import run_anchor
    from models.dataset import DEFAULT_CACHE, labelled
    from models.emodb import utterances

    model = ArousalModel.load(DEFAULT_MODEL, num_threads=1)
    assert model.card is not None
    card = model.card.raw
    if args.retrain:
        from edge.features.config import FeatureConfig
        from models.train import TrainSettings, load_corpus, run_loso

        settings = TrainSettings()
        corpus = load_corpus(settings, args.emodb, DEFAULT_CACHE, 2, FeatureConfig())
        poise = run_loso(corpus, settings)
        source = "retrained in this run"
    else:
        poise = card["evaluation"]
        source = "from the model card (measured by `make model`)"
    anchor = run_anchor(labelled(utterances(args.emodb)), DEFAULT_CACHE / "egemaps-v02.npz")
    speed = invoke_times(model, args.invokes)
    size = DEFAULT_MODEL.stat().st_size
    gap = max(
        abs(poise["uar_int8_raw"] - poise["uar_float_raw"]),
        abs(poise["uar_int8_baseline"] - poise["uar_float_baseline"]),
    )
    checks = {
        "int8 raw UAR >= 0.90": poise["uar_int8_raw"] >= TARGETS["uar_int8_raw"],
        "int8 baseline UAR >= 0.965": poise["uar_int8_baseline"] >= TARGETS["uar_int8_baseline"],
        "beats anchor raw": poise["uar_int8_raw"] > anchor["uar_raw"],
        "beats anchor speaker-z": poise["uar_int8_baseline"] > anchor["uar_speaker_z"],
        "int8 within 0.01 of float": gap <= TARGETS["max_float_int8_gap"],
        "size <= 100 KB": size <= TARGETS["max_size_bytes"],
        "invoke <= 0.5 ms": speed["invoke_median_ms"] <= TARGETS["max_invoke_ms"],
    }
    rows = [
        ("Poise int8 (shipped path)", poise["uar_int8_raw"], poise["uar_int8_baseline"]),
        ("Poise float (Keras)", poise["uar_float_raw"], poise["uar_float_baseline"]),
        ("eGeMAPSv02 + linear SVM", anchor["uar_raw"], anchor["uar_speaker_z"]),
    ]
    print(f"EmoDB arousal, leave-one-speaker-out, {poise.get('n_files')} files; Poise: {source}")
    print(f"{'system':<28} {'UAR raw':>8} {'UAR per-speaker':>16}")
    for name, a, b in rows:
        print(f"{name:<28} {a:>8.3f} {b:>16.3f}")
    print(
        f"model {size} bytes; one thread: invoke {speed['invoke_median_ms']:.4f} ms median, "
        f"quantise+invoke+dequantise {speed['logit_median_ms']:.4f} ms "
        f"(p90 {speed['logit_p90_ms']:.4f}) over {args.invokes} windows"
    )
    for k, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {k}")
    out: dict[str, Any] = {
        "poise": {k: v for k, v in poise.items() if k != "folds"},
        "poise_folds": poise.get("folds", []),
        "poise_source": source,
        "anchor": anchor,
        "size_bytes": size,
        "speed": speed,
        "targets": TARGETS,
        "checks": checks,
        "backend": model.runner.backend,
    }
    write_results("model_bench", out, indent=1)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
