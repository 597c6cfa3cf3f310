"""The held-out ``stress`` calls with the agent's headset mic in other conditions, side by side.

The calls of :mod:`bench.scenarios` (``stress@SPK``: a new agent, 10 minutes of the held-out
speaker's calm speech, then 2 minutes of their stressed speech; fold models trained without them),
each run once per condition of :data:`bench.mic_conditions.CONDITIONS` in the same run: ``clean``
(as recorded), ``office`` (neighbouring agents' speech 15 dB under the agent), ``quiet`` (the
agent's calm speech at -50 dBFS), ``gain_step`` (6 dB louder from 60 % of the calm stretch on) and
``gain_drop`` (10 dB quieter from there).
Reported per condition: hits within 10 s of the stressed stretch's onset, the delays, the agent's
own false stress cues, and every detector's false cues per hour of calm speech (a room that reads
as the agent speaking shows up as ``overtalk`` or ``monologue``).

Usage: ``.venv/bin/python -m bench.agent_mic [--voices ABCDEF] [--conditions clean,office,...]
[--kind stress|empathy] [--fold-seed N] [--set k=v]``. Writes bench/results/agent_mic.json
(``_seedN`` with ``--fold-seed``, ``_partial`` for other voices, kinds or overrides).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench import heldout
from bench.mic_conditions import CONDITIONS
from bench.results import write_results
from bench.scenarios import evaluate
from edge.settings import DETECTOR_NAMES

ALL_SETS = "".join(sorted(heldout.SETS))


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Hits, delays and false cues of one condition's calls."""
    delays = [r["delays_s"][0] if r["delays_s"] else None for r in rows]
    calm_h = sum(r["calm_s"] for r in rows) / 3600.0
    by: dict[str, int] = dict.fromkeys(DETECTOR_NAMES, 0)
    for r in rows:
        for f in r["false_cues"]:
            by[f["cue"]] += 1
    own = sum(1 for r in rows for f in r["false_cues"] if f["cue"] == r["detector"])
    return {
        "calls": len(rows),
        "within_10_s": sum(1 for d in delays if d is not None and d <= 10.0),
        "missed": sum(1 for d in delays if d is None),
        "own_false_cues": own,
        "calm_hours": round(calm_h, 3),
        "false_cues": by,
        "false_cues_per_calm_hour": round(sum(by.values()) / calm_h, 2) if calm_h else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voices", default=ALL_SETS, help=f"held-out sets (default {ALL_SETS})")
    ap.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated")
    ap.add_argument("--kind", choices=("stress", "empathy"), default="stress")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--fold-seed", type=int, help="fold models' training seed (default: recipe)")
    args = ap.parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    bad = [c for c in conditions if c not in CONDITIONS] + [
        k for k in args.voices if k not in heldout.SETS
    ]
    if bad or not conditions:
        ap.error(f"unknown condition or set {bad}: conditions {list(CONDITIONS)}, sets {ALL_SETS}")
    heldout.set_fold_seed(args.fold_seed)
    names = [f"{args.kind}@{s}" for k in args.voices for s in heldout.SETS[k]]
    for k in args.voices:
        heldout.fold_model(heldout.SETS[k])  # trained (or read from cache) before the workers
    jobs = [(n, c) for n in names for c in conditions]
    with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn")) as ex:
        results = list(
            ex.map(
                evaluate,
                [n for n, _ in jobs],
                [20.0] * len(jobs),
                [args.overrides] * len(jobs),
                [False] * len(jobs),
                [c for _, c in jobs],
            )
        )
    by_cond = {
        c: [r for (_, rc), r in zip(jobs, results, strict=True) if rc == c] for c in conditions
    }
    print(f"{args.kind} cue delay s (own false cues in calm) per agent mic condition")
    print(f"{'call':14s} " + " ".join(f"{c:>14s}" for c in conditions))
    for i, n in enumerate(names):
        cells = []
        for c in conditions:
            r = by_cond[c][i]
            d = r["delays_s"][0] if r["delays_s"] else None
            own = sum(1 for f in r["false_cues"] if f["cue"] == args.kind)
            cells.append(f"{'miss' if d is None else f'{d:.1f}'}{f' ({own})' if own else ''}")
        print(f"{n:14s} " + " ".join(f"{x:>14s}" for x in cells))
    summary = {c: summarise(rows) for c, rows in by_cond.items()}
    print(
        f"\n{'condition':10s} {'within 10 s':>12s} {'missed':>7s} {'own false':>10s} "
        f"{'all false/calm h':>17s}  by detector"
    )
    for c, s in summary.items():
        det = ", ".join(f"{k} {v}" for k, v in s["false_cues"].items() if v) or "-"
        print(
            f"{c:10s} {s['within_10_s']:>5d} of {s['calls']:<4d} {s['missed']:7d} "
            f"{s['own_false_cues']:10d} {s['false_cues_per_calm_hour']:17.2f}  {det}"
        )
    name = "agent_mic"
    if args.voices != ALL_SETS or args.kind != "stress" or args.overrides:
        name += "_partial"
    if args.fold_seed is not None:
        name += f"_seed{args.fold_seed}"
    write_results(
        name,
        {
            "kind": args.kind,
            "voices": args.voices,
            "conditions": {c: CONDITIONS[c] for c in conditions},
            "summary": summary,
            "calls": {c: rows for c, rows in by_cond.items()},
            "overrides": args.overrides,
            "fold_seed": args.fold_seed,
        },
        indent=1,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
