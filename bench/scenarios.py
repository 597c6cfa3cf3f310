"""Scripted calls through the device pipeline: detection delay, false cues per hour, timelines.

Every scenario is a two-channel call built at run time (espeak-ng, and EmoDB/RAVDESS read in
place for ``stress``/``empathy``) with a calm stretch first (long enough to calibrate the agent's
baseline) and then, except for ``calm``, scripted episodes of one kind of drift. For each scenario:

* detection delay: seconds from each scripted onset to the first ``cue on`` of the expected
  detector (missed when none before the next episode or the end);
* false cues: any ``cue on`` during the calm stretches (of every scenario), per hour of calm audio.

``stress@SPK`` and ``empathy@SPK`` (one per speaker of :data:`bench.heldout.HELDOUT`, two EmoDB
speakers and two RAVDESS actors) run a *fold model* trained without those speakers
(:func:`bench.heldout.fold_model`), on a new agent with no baseline carried over: 10 minutes of the
held-out speaker's calm speech (neutral + boredom / neutral + calm) in turns, then 2 minutes of
their stressed speech (anger + fear / angry + fearful). For ``empathy@SPK`` the held-out speaker is
the far end, telephone-band (8 kHz, 300-3400 Hz, mu-law), and the agent is espeak-ng.
``--validation`` runs the same calls on a second, disjoint held-out set with its own fold model
(:data:`bench.heldout.VALIDATION`, set B), ``--third`` on a third one (:data:`bench.heldout.THIRD`,
set C), ``--voices D`` on a fourth (:data:`bench.heldout.FOURTH`), kept untouched until the
changes found with the others were made, ``--voices E`` on a fifth (:data:`bench.heldout.FIFTH`),
run once with the settings as they were, ``--voices F`` on the last two RAVDESS actors
(:data:`bench.heldout.SIXTH`), kept to check a change chosen on A-E (docs/voices.md says which
set was used for what).

Usage: ``.venv/bin/python -m bench.scenarios [--only NAME ...] [--calm-minutes 20] [--set k=v]``.
Writes bench/results/scenarios.json. No audio is kept.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from bench import heldout
from bench.results import write_results
from bench.scenario_calls import (
    SCENARIOS,
    SET_RESULTS,
    SET_SCENARIOS,
    build,
)
from edge.device.arousal import ArousalModel, load_arousal_model
from edge.device.pipeline import Pipeline
from edge.protocols import AudioBlock
from edge.settings import DETECTOR_NAMES, DeviceSettings, load_settings
from edge.simulate.speech import F32, SR


def audio_blocks(audio: F32, block_s: float) -> Iterator[AudioBlock]:
    """A built call (float, -1..1) as the int16 blocks of ``block_s`` the device reads."""
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
    step = round(block_s * SR)
    for i in range(0, pcm.shape[0], step):
        yield AudioBlock(i / SR, pcm[i : i + step], SR)


def run_pipeline(
    audio: F32,
    settings: DeviceSettings,
    model_factory: Callable[[], ArousalModel] | None,
    calm_spans: list[tuple[float, float]],
) -> tuple[list[dict], float, dict[str, list[float]]]:
    """Events (cue, drift, suppressed, baseline), processing seconds, and each detector's signal
    sampled once per block inside the calm spans (for threshold margins)."""
    pipe = Pipeline(settings, model_factory=model_factory)
    events = []
    calm: dict[str, list[float]] = {n: [] for n in pipe.running}
    t0 = time.perf_counter()
    for block in audio_blocks(audio, settings.audio.block_s):
        events += pipe.step(block)
        t = block.t0
        if any(a <= t < b for a, b in calm_spans) and pipe.baseline.ready:
            for n, v in pipe.last_values.items():
                if np.isfinite(v):
                    calm[n].append(v)
    events += pipe.flush()
    kinds = ("cue", "drift", "suppressed", "baseline")
    out = [e.to_json() for e in events if e.kind in kinds]
    return out, time.perf_counter() - t0, calm


def fold_model_factory(
    held: tuple[str, ...] = heldout.HELDOUT,
) -> Callable[[], ArousalModel]:
    """Per-channel factory of the fold model without the ``held`` speakers (int8, device path)."""
    from edge.device.arousal import LiteRTArousal
    from edge.model.inputs import WindowBuilder
    from edge.model.runtime import ArousalModel as Runtime

    blob, spec = heldout.fold_model(held)
    runtime = Runtime.from_bytes(blob, spec)
    return lambda: LiteRTArousal(runtime, WindowBuilder(spec))


def evaluate(
    name: str,
    calm_minutes: float,
    overrides: list[str],
    neutral_calm: bool = False,
    mic: str = "clean",
) -> dict[str, Any]:
    """Run call ``name`` through the pipeline; ``mic``: the agent's mic condition
    (:data:`bench.mic_conditions.CONDITIONS`, held-out calls only)."""
    settings = load_settings(None, overrides)
    if "@" in name:
        spk = name.partition("@")[2]
        model: Callable[[], ArousalModel] | None = fold_model_factory(heldout.held_set(spk))
    else:
        model = load_arousal_model(settings.model, settings.features)
    t_build = time.perf_counter()
    sc = build(name, calm_minutes, neutral_calm)
    if mic != "clean":
        from bench import mic_conditions

        if "@" not in name:
            raise ValueError(f"mic condition {mic!r} is for the held-out calls, not {name!r}")
        calm_end = max(b for _, b in sc.calm_spans)
        sc.audio = mic_conditions.apply(
            sc.audio, mic, name.partition("@")[2], calm_end, sum(map(ord, name + mic))
        )
        sc.note += f"; agent mic: {mic}"
    build_s = time.perf_counter() - t_build
    dur = sc.audio.shape[0] / SR
    events, proc_s, calm_signals = run_pipeline(sc.audio, settings, model, sc.calm_spans)
    ons = [e for e in events if e["kind"] == "cue" and e["state"] == "on"]
    calm_s = sum(b - a for a, b in sc.calm_spans)
    false = [e for e in ons if any(a <= e["t"] < b for a, b in sc.calm_spans)]
    delays: list[float | None] = []
    drift_delays: list[float | None] = []  # detected, whether or not the arbiter showed it
    for i, onset in enumerate(sc.onsets):
        nxt = sc.onsets[i + 1] if i + 1 < len(sc.onsets) else dur + 1
        hit = [e["t"] for e in ons if e["cue"] == sc.detector and onset <= e["t"] < nxt]
        delays.append(round(hit[0] - onset, 2) if hit else None)
        drift = [
            e["t"]
            for e in events
            if e["kind"] == "drift"
            and e["state"] == "on"
            and e["cue"] == sc.detector
            and onset <= e["t"] < nxt
        ]
        drift_delays.append(round(drift[0] - onset, 2) if drift else None)
    calibrated = [e["t"] for e in events if e["kind"] == "baseline" and e["state"] == "calibrated"]
    # How close calm speech came to each threshold (after calibration): the 99th percentile of
    # the signal (1st for flat, which fires below enter), as a share of the enter threshold.
    margins = {}
    for n, vals in calm_signals.items():
        if len(vals) >= 20 and n not in ("monologue", "dead_air"):
            q = float(np.percentile(vals, 1 if n == "flat" else 99))
            margins[n] = round(q, 3)
    return {
        "name": name,
        "detector": sc.detector,
        "note": sc.note,
        "duration_s": round(dur, 1),
        "calm_s": round(calm_s, 1),
        "onsets_s": [round(o, 1) for o in sc.onsets],
        "delays_s": delays,
        "drift_delays_s": drift_delays,
        "false_cues": [{"t": e["t"], "cue": e["cue"]} for e in false],
        "calibrated_at_s": calibrated[0] if calibrated else None,
        "calm_signal_p99": margins,
        "model": model is not None,
        "timeline": [
            (e["t"], e["kind"], e["cue"], e.get("state", "on"), e.get("reason"))
            for e in events
            if e["kind"] in ("cue", "suppressed")
        ],
        "build_s": round(build_s, 1),
        "process_s": round(proc_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--only",
        nargs="*",
        choices=SCENARIOS + tuple(n for k in sorted(SET_RESULTS) for n in SET_SCENARIOS[k]),
        default=list(SCENARIOS),
    )
    ap.add_argument("--heldout", action="store_true", help="only the held-out stress/empathy calls")
    ap.add_argument(
        "--validation",
        action="store_true",
        help="only the held-out calls of the second speaker set (its own fold model)",
    )
    ap.add_argument(
        "--third",
        action="store_true",
        help="only the held-out calls of the third speaker set (its own fold model)",
    )
    ap.add_argument(
        "--voices",
        choices=sorted(SET_RESULTS),
        help="only the held-out calls of this speaker set (B = --validation, C = --third, D, E, F)",
    )
    ap.add_argument(
        "--neutral-calm",
        action="store_true",
        help="held-out EmoDB calm stretches without the bored readings (a check for flat)",
    )
    ap.add_argument("--calm-minutes", type=float, default=20.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--timeline", action="store_true", help="print every scenario's cue timeline")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--fold-seed", type=int, help="train the fold models with this seed (default: the recipe's)"
    )
    args = ap.parse_args(argv)
    heldout.set_fold_seed(args.fold_seed)
    names = [n for n in args.only if "@" in n] if args.heldout else list(args.only)
    voices = args.voices or ("B" if args.validation else "C" if args.third else None)
    if voices:
        names = list(SET_SCENARIOS[voices])
    for group in {heldout.held_set(n.partition("@")[2]) for n in names if "@" in n}:
        heldout.fold_model(group)  # trained (or read from cache) once, before the workers start
    # spawn, not fork: training the fold model above initialises TensorFlow, whose threads do
    # not survive a fork (the workers segfaulted)
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn")) as ex:
        results = list(
            ex.map(
                evaluate,
                names,
                [args.calm_minutes] * len(names),
                [args.overrides] * len(names),
                [args.neutral_calm] * len(names),
            )
        )
    calm_total = sum(r.get("calm_s", 0.0) for r in results)
    false_by: dict[str, int] = dict.fromkeys(DETECTOR_NAMES, 0)
    for r in results:
        for f in r.get("false_cues", []):
            false_by[f["cue"]] += 1
    print(
        f"{'scenario':10s} {'audio s':>8s} {'calm s':>7s} {'delays s (target <= 10)':28s} "
        f"{'false cues':>10s} {'proc s':>7s}  note"
    )
    for r in results:
        d = ", ".join("miss" if x is None else f"{x:.1f}" for x in r["delays_s"]) or "-"
        if r["detector"] in ("stress", "empathy") and not r["model"]:
            d = "n/a (no model)"
        print(
            f"{r['name']:10s} {r['duration_s']:8.0f} {r['calm_s']:7.0f} {d:28s} "
            f"{len(r['false_cues']):10d} {r['process_s']:7.1f}  {r['note']}"
        )
        if args.timeline:
            for t, kind, cue, state, reason in r["timeline"]:
                print(f"    {t:8.1f} {kind:10s} {cue:10s} {state:4s} {reason or ''}")
    print("\ncalm speech after calibration, signal p99 (flat: p1) vs enter threshold:")
    for n in DETECTOR_NAMES:
        qs = [r["calm_signal_p99"][n] for r in results if n in r.get("calm_signal_p99", {})]
        if qs:
            worst = min(qs) if n == "flat" else max(qs)
            enter = load_settings(None, args.overrides).detectors.get(n).enter
            print(f"  {n:10s} worst scenario {worst:7.3f}  enter {enter:g}")
    held = [r for r in results if "@" in r["name"]]
    if held:
        print("\nheld-out voices (fold model without them; new agent, no baseline carried over):")
        print(
            f"{'scenario':16s} {'hit':>4s} {'delay s':>8s} {'drift s':>8s} {'calm min':>9s} "
            f"{'own false/h':>12s}"
        )
        for r in held:
            delay = r["delays_s"][0] if r["delays_s"] else None
            drift = (r.get("drift_delays_s") or [None])[0]
            own = sum(1 for f in r["false_cues"] if f["cue"] == r["detector"])
            per_h = own / (r["calm_s"] / 3600.0) if r["calm_s"] else float("nan")
            r["own_false_cues_per_calm_hour"] = round(per_h, 2)
            r["hit"] = delay is not None
            print(
                f"{r['name']:16s} {'yes' if delay is not None else 'MISS':>4s} "
                f"{'-' if delay is None else f'{delay:.1f}':>8s} "
                f"{'-' if drift is None else f'{drift:.1f}':>8s} {r['calm_s'] / 60:9.1f} "
                f"{per_h:12.2f}"
            )
        ok = [r["hit"] and r["delays_s"][0] <= 10.0 for r in held]
        print(f"  within 10 s: {sum(ok)} of {len(held)}")
    hours = calm_total / 3600.0
    print(f"\ncalm audio: {calm_total / 60:.1f} min; false cues per hour of calm speech:")
    for n in DETECTOR_NAMES:
        print(f"  {n:10s} {false_by[n] / hours if hours else 0.0:6.2f}  ({false_by[n]})")
    total_false = sum(false_by.values())
    print(f"  {'all':10s} {total_false / hours if hours else 0.0:6.2f}  ({total_false})")
    out = {
        "scenarios": results,
        "calm_hours": hours,
        "false_cues_per_hour": {
            n: (false_by[n] / hours if hours else None) for n in DETECTOR_NAMES
        },
        "false_cues_per_hour_all": total_false / hours if hours else None,
        "overrides": args.overrides,
        "fold_seed": args.fold_seed,
    }
    # the full default set, the held-out set, and partial/overridden runs never overwrite each other
    name = "scenarios_heldout" if args.heldout else "scenarios"
    if voices:
        name = SET_RESULTS[voices]
    whole_set = voices is not None or set(args.only) == set(SCENARIOS)
    if args.neutral_calm:
        name += "_neutral_calm"
    if not whole_set or args.overrides:
        name += "_partial"
    if args.fold_seed is not None:
        name += f"_seed{args.fold_seed}"
    write_results(name, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
