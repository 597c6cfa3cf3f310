"""Replay held-out calls' detector signals through :class:`~edge.detectors.hysteresis.Drift`
under other drift settings: how ``min_duration_s``, ``strong_min_share``, ``enter``... move the
delay and the false drifts, without re-running the pipeline for every setting.

Each ``stress@SPK`` (or ``empathy@SPK``) call of the chosen held-out sets runs once through the
device pipeline with its fold model (as :mod:`bench.scenarios` does), recording the detector's
signal per decision tick; then every combination of ``--grid`` values replays those series.
What a replay leaves out: the arbiter (a drift here is not always a shown cue) and the
feedback of a drift on the signal (a drift freezes the baseline), so confirm a choice with
:mod:`bench.scenarios`.

Usage: ``.venv/bin/python -m bench.drift_replay [--voices ABC] [--detector stress]
[--grid min_duration_s=5,4,3 --grid strong_min_share=1,0.5] [--set k=v]
[--save-series F | --load-series F]`` (record once, replay other grids from the file).
Writes bench/results/drift_replay.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench import heldout
from bench.results import write_results
from edge.detectors.hysteresis import Drift, Transition
from edge.settings import DetectorSettings, load_settings


class _Recorder:
    """Stands in for one of the pipeline's drifts: records (t, value), then delegates."""

    def __init__(self, drift: Drift) -> None:
        self.drift = drift
        self.series: list[tuple[float, float]] = []

    def update(self, t: float, value: float) -> Transition | None:
        self.series.append((t, value))
        return self.drift.update(t, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.drift, name)


def record(name: str, overrides: list[str]) -> dict[str, Any]:
    """The detector's per-tick signal over call ``name`` (``kind@speaker``), with its onset."""
    from bench.scenario_calls import build
    from bench.scenarios import audio_blocks, fold_model_factory
    from edge.device.pipeline import Pipeline

    kind, _, spk = name.partition("@")
    settings = load_settings(None, overrides)
    sc = build(name, 20.0)
    pipe = Pipeline(settings, model_factory=fold_model_factory(heldout.held_set(spk)))
    rec = _Recorder(pipe.drifts[kind])
    pipe.drifts[kind] = rec  # type: ignore[assignment]
    for block in audio_blocks(sc.audio, settings.audio.block_s):
        pipe.step(block)
    return {"name": name, "onset": sc.onsets[0], "series": rec.series}


def replay(call: dict[str, Any], st: DetectorSettings) -> dict[str, Any]:
    """First drift at or after the onset (delay s, None if none) and drifts before it (both
    replayed detectors fire above ``enter``)."""
    d = Drift("x", st)
    ons = [tr.t for t, v in call["series"] if (tr := d.update(t, v)) and tr.state == "on"]
    onset = call["onset"]
    late = [t - onset for t in ons if t >= onset]
    calm = [v for t, v in call["series"] if t < onset and np.isfinite(v)]
    return {
        "delay_s": round(late[0], 2) if late else None,
        "false_drifts": sum(t < onset for t in ons),
        "calm_max": round(float(max(calm)), 3) if calm else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voices", default="ABC", help="held-out sets, e.g. ABC or ABCD")
    ap.add_argument("--detector", choices=("stress", "empathy"), default="stress")
    ap.add_argument("--grid", action="append", default=[], help="FIELD=v1,v2,... (repeatable)")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--fold-seed", type=int, help="train the fold models with this seed (default: the recipe's)"
    )
    ap.add_argument("--save-series", type=Path, help="write the recorded series here (JSON)")
    ap.add_argument("--load-series", type=Path, help="replay series saved by --save-series")
    args = ap.parse_args(argv)
    heldout.set_fold_seed(args.fold_seed)
    if args.load_series:
        calls = json.loads(args.load_series.read_text())
    else:
        names = [f"{args.detector}@{s}" for k in args.voices for s in heldout.SETS[k]]
        for k in args.voices:
            heldout.fold_model(heldout.SETS[k])  # trained (or read from cache) before the workers
        with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn")) as ex:
            calls = list(ex.map(record, names, [args.overrides] * len(names)))
    if args.save_series:
        args.save_series.write_text(json.dumps(calls))
    base = load_settings(None, args.overrides).detectors.get(args.detector)
    axes = [
        (f, [float(v) for v in vals.split(",")])
        for f, _, vals in map(str.partition, args.grid, ["="] * len(args.grid))
    ]
    rows = []
    for combo in itertools.product(*(vals for _, vals in axes)):
        change = dict(zip((f for f, _ in axes), combo, strict=True))
        st = replace(base, **change)  # type: ignore[arg-type]
        got = {c["name"]: replay(c, st) for c in calls}
        within = sum(1 for r in got.values() if r["delay_s"] is not None and r["delay_s"] <= 10)
        false = sum(r["false_drifts"] for r in got.values())
        rows.append(
            {"settings": change, "within_10_s": within, "false_drifts": false, "calls": got}
        )
        label = ", ".join(f"{k}={v:g}" for k, v in change.items()) or "as configured"
        delays = " ".join(
            f"{n.partition('@')[2]}:{'miss' if r['delay_s'] is None else r['delay_s']}"
            for n, r in got.items()
        )
        print(f"{label:40s} within 10 s {within:2d}/{len(got)}  false {false}  {delays}")
    print("calm maximum per call:", {c["name"]: replay(c, base)["calm_max"] for c in calls})
    write_results(
        "drift_replay",
        {
            "detector": args.detector,
            "voices": args.voices,
            "fold_seed": args.fold_seed,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
