"""Prosody model benchmark: speaker-independent UAR of Poise (float/int8, raw/baseline) beside
the eGeMAPS + linear-SVM anchor (raw and per-speaker z-normalised) on the same folds, for every
protocol of :mod:`models.folds` (LOSO within EmoDB and RAVDESS, leave-one-corpus-out both ways,
LOSO on the union); model size and int8 invoke time.

    .venv/bin/python -m bench.model_bench            # anchor now; Poise's folds from the card
    .venv/bin/python -m bench.model_bench --retrain  # Poise's folds retrained now too (~45 min)

Without ``--retrain`` Poise's figures are the ones ``make model`` measured when it trained the
shipped model (stored in its card); the anchor, size and invoke time are measured in this run.
"Raw" for Poise is the model's logit on per-speaker normalised inputs (the device's inputs);
"per-speaker" adds its output baseline. Writes ``bench/results/model_bench.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from dataclasses import replace
from typing import Any

import numpy as np

from bench.results import write_results
from edge.model.card import DEFAULT_MODEL
from edge.model.runtime import ArousalModel

TARGETS = {
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


def protocol_rows(poise: dict[str, Any], anchor: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per protocol: Poise float/int8 raw/baseline beside the anchor raw/speaker-z."""
    rows = []
    for p, ev in poise.items():
        if p == "anchor" or not isinstance(ev, dict) or p not in anchor:
            continue
        a = anchor[p]
        rows.append(
            {
                "protocol": p,
                "n_files": ev.get("n_files"),
                "poise_int8_raw": ev["uar_int8_raw"],
                "poise_int8_baseline": ev["uar_int8_baseline"],
                "poise_float_raw": ev["uar_float_raw"],
                "poise_float_baseline": ev["uar_float_baseline"],
                "anchor_raw": a["uar_raw"],
                "anchor_speaker_z": a["uar_speaker_z"],
                "by_corpus": {k: v for k, v in {**ev, **a}.items() if k.endswith("_by_corpus")},
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.model_bench", description=__doc__)
    ap.add_argument("--retrain", action="store_true", help="retrain Poise's folds in this run")
    ap.add_argument("--invokes", type=int, default=5000)
    ap.add_argument("--emodb", default=None)
    ap.add_argument("--ravdess", default=None)
    ap.add_argument("--protocols", default="", help="comma-separated subset (default: all)")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    from models.anchor import egemaps, run_anchor
    from models.dataset import DEFAULT_CACHE
    from models.fitting import TrainSettings, read_corpora
    from models.folds import PROTOCOLS

    utts = read_corpora(("emodb", "ravdess"), args.emodb, args.ravdess)
    egemaps(utts, DEFAULT_CACHE / "egemaps-v02.npz")  # before TensorFlow (see models.train)

    def anchors(ev: dict[str, Any]) -> dict[str, Any]:
        """The anchor on the same folds (the first ``folds_done`` of a partial protocol)."""
        out: dict[str, Any] = {}
        for p, res in ev.items():
            n = res.get("folds_done")
            full = n is None or n == res.get("folds_total")
            a = run_anchor(utts, DEFAULT_CACHE / "egemaps-v02.npz", (p,), None if full else n)
            out["name"] = a["name"]
            out[p] = a[p]
        return out

    model = ArousalModel.load(DEFAULT_MODEL, num_threads=1)
    assert model.card is not None
    card = model.card.raw
    if args.retrain:
        from edge.features.config import FeatureConfig
        from models.fitting import load_corpus
        from models.protocol_eval import run_protocol

        settings = TrainSettings()
        if args.protocols:
            settings = replace(settings, protocols=tuple(args.protocols.split(",")))
        corpus = load_corpus(settings, args.emodb, DEFAULT_CACHE, 2, FeatureConfig(), args.ravdess)
        poise: dict[str, Any] = {}
        source = "retrained in this run"
        name = "model_bench" + (f"-{args.protocols}" if args.protocols else "")
        for p in settings.protocols:

            def partial(res: dict[str, Any], p: str = p) -> None:
                # an interrupted run still leaves the folds done so far (and the anchor on them)
                part = {**poise, p: res}
                write_results(f"{name}-partial", {"poise": part, "anchor": anchors(part)})

            poise[p] = run_protocol(corpus, settings, p, checkpoint=partial)
    else:
        poise = {k: v for k, v in card["evaluation"].items() if k in PROTOCOLS}
        if args.protocols:
            poise = {k: v for k, v in poise.items() if k in args.protocols.split(",")}
        source = "from the model card (measured by `make model`)"

    anchor = anchors(poise)
    speed = invoke_times(model, args.invokes)
    size = DEFAULT_MODEL.stat().st_size
    rows = protocol_rows(poise, anchor)
    checks: dict[str, bool] = {}
    for r in rows:
        p = r["protocol"]
        checks[f"{p}: int8 raw > anchor raw"] = r["poise_int8_raw"] > r["anchor_raw"]
        checks[f"{p}: int8 baseline > anchor speaker-z"] = (
            r["poise_int8_baseline"] > r["anchor_speaker_z"]
        )
        gap = max(
            abs(r["poise_int8_raw"] - r["poise_float_raw"]),
            abs(r["poise_int8_baseline"] - r["poise_float_baseline"]),
        )
        checks[f"{p}: int8 within 0.01 of float"] = gap <= TARGETS["max_float_int8_gap"]
    checks["size <= 100 KB"] = size <= TARGETS["max_size_bytes"]
    checks["invoke <= 0.5 ms"] = speed["invoke_median_ms"] <= TARGETS["max_invoke_ms"]
    print(f"Arousal UAR (file level), speaker-independent; Poise: {source}")
    head = (
        f"{'protocol':<18} {'files':>5} | {'Poise int8':^15} | {'Poise float':^15} | {'anchor':^15}"
    )
    print(head)
    print(
        f"{'':<18} {'':>5} | {'raw':>7} {'base':>7} | {'raw':>7} {'base':>7} | "
        f"{'raw':>7} {'spk-z':>7}"
    )
    for r in rows:
        print(
            f"{r['protocol']:<18} {r['n_files']:>5} | {r['poise_int8_raw']:>7.3f} "
            f"{r['poise_int8_baseline']:>7.3f} | {r['poise_float_raw']:>7.3f} "
            f"{r['poise_float_baseline']:>7.3f} | {r['anchor_raw']:>7.3f} "
            f"{r['anchor_speaker_z']:>7.3f}"
        )
        for k, v in r["by_corpus"].items():
            print(f"    {k}: " + ", ".join(f"{c} {u:.3f}" for c, u in v.items()))
    print(
        f"model {size} bytes; one thread: invoke {speed['invoke_median_ms']:.4f} ms median, "
        f"quantise+invoke+dequantise {speed['logit_median_ms']:.4f} ms "
        f"(p90 {speed['logit_p90_ms']:.4f}) over {args.invokes} windows"
    )
    for k, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {k}")
    out: dict[str, Any] = {
        "rows": rows,
        "poise": poise,
        "poise_source": source,
        "anchor": anchor,
        "size_bytes": size,
        "speed": speed,
        "targets": TARGETS,
        "checks": checks,
        "backend": model.runner.backend,
    }
    write_results("model_bench" + (f"-{args.protocols}" if args.protocols else ""), out, indent=1)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
