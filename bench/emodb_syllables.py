"""Syllable counts of the front-end against EmoDB's syllable labels, per file.

Run: ``.venv/bin/python -m bench.emodb_syllables [--no-loso] [--tune] [--set NAME=VALUE ...]``
(``make bench-syllables``; ~10 min, most of it the ten LOSO fits; train extra).

Every EmoDB file with marks (534; 2.0 s at 22,050 Hz, read in place) is resampled to 16 kHz with
soxr. **Labelled**: syllables whose nucleus (vowel midpoint, see :mod:`models.syllable_labels`)
lies in the 2.0 s copy. Two counters are scored against it:

* **learned counter, LOSO** (what the device reports as ``syllables`` and rates): for each of the
  ten speakers the network is fitted on the other nine (``models.train_syllables.loso``: the
  shipped recipe) and the held-out speaker's files are counted with the device's streaming numpy
  code: the density summed over the file. Also on telephone-band and noisy copies of the
  held-out files. The shipped network itself saw all speakers, so only these figures are scores.
* **intensity peaks (De Jong)**: ``nucleus`` flags in the 2.0 s, the detector whose constants were
  tuned on ``DEV_SPEAKERS`` (03, 08) only; split dev / held-out. The older onset cut-off rules
  (marks at t < 1.90 / 1.95 / 2.00 s) are shown for it, to show how much the rule matters.

Reported: Pearson r over files (target >= 0.90), mean absolute count error as % of the mean label
(target <= 10%), mean signed error, and per emotion the labelled and detected syllable rates (per
second of the 2.0 s file). ``--tune`` grid-searches the peak detector's module constants on the dev
speakers; ``--set edge.features.nuclei.MIN_DIP_DB=2`` overrides one. Writes
``bench/results/emodb_syllables.json``.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.results import write_results
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.features.frontend import FrontEnd
from models.emodb import EMOTIONS, Utterance, corpus_dir, utterances
from models.syllable_labels import CLIP_S, nucleus_times, scores

log = logging.getLogger(__name__)

TAIL_S = 0.05
DEV_SPEAKERS = ("03", "08")
#: Key of the vowel-nucleus rule in :attr:`Item.labels` (the onset cut-offs are keyed by seconds).
VOWEL_RULE = "vowel"
#: Grid for ``--tune`` (module constants of edge.features.nuclei that exist at run time).
TUNE_GRID: dict[str, tuple[float, ...]] = {
    "MIN_DIP_DB": (1.0, 1.5, 2.0, 3.0),
    "PEAK_RADIUS_S": (0.02, 0.03, 0.05),
    "SMOOTH_S": (0.0, 0.03, 0.05),
}


@dataclass(frozen=True)
class Item:
    """One utterance, ready to score."""

    utt: Utterance
    x16: np.ndarray
    labels: dict[float | str, int]
    """Label count for each onset cut-off in seconds, and for :data:`VOWEL_RULE`."""


def load_items(cfg: FeatureConfig) -> list[Item]:
    items = []
    root = corpus_dir() / "lablaut"
    for u in utterances():
        if not u.syllable_times:
            log.info("%s: no syllable marks, skipped", u.stem)
            continue
        x = u.read_16k(cfg.sample_rate)
        marks = np.asarray(u.syllable_times)
        cuts: dict[float | str, int] = {
            c: int((marks < c).sum()) for c in (CLIP_S - 0.10, CLIP_S - TAIL_S, CLIP_S)
        }
        cuts[VOWEL_RULE] = int((nucleus_times(u, root) < CLIP_S).sum())
        items.append(Item(u, x, cuts))
    return items


def count_nuclei(items: list[Item], cfg: FeatureConfig) -> np.ndarray:
    fe = FrontEnd(cfg, learned_syllables=False)
    counts = []
    for it in items:
        out = FrameBatch.concat([fe.process(it.x16), fe.flush()])
        counts.append(int(out.nucleus[out.t < CLIP_S].sum()))
    return np.asarray(counts)


def apply_overrides(pairs: list[str]) -> dict[str, float]:
    """``module.CONST=value`` (module defaults to edge.features.nuclei)."""
    done = {}
    for p in pairs:
        key, _, value = p.partition("=")
        mod_name, _, const = key.rpartition(".")
        mod = importlib.import_module(mod_name or "edge.features.nuclei")
        if not hasattr(mod, const):
            raise SystemExit(f"{mod.__name__} has no constant {const}")
        setattr(mod, const, type(getattr(mod, const))(float(value)))
        done[f"{mod.__name__}.{const}"] = float(value)
    return done


def set_nuclei_constants(values: dict[str, float]) -> None:
    mod = importlib.import_module("edge.features.nuclei")
    for k, v in values.items():
        setattr(mod, k, type(getattr(mod, k))(v))


def tune(items: list[Item], cfg: FeatureConfig) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Grid search on the dev speakers; minimise MAE%, ties to higher r."""
    mod = importlib.import_module("edge.features.nuclei")
    grid = {k: v for k, v in TUNE_GRID.items() if hasattr(mod, k)}
    original = {k: float(getattr(mod, k)) for k in grid}
    dev = [it for it in items if it.utt.speaker in DEV_SPEAKERS]
    lab = np.asarray([it.labels[VOWEL_RULE] for it in dev])
    trials: list[dict[str, Any]] = []
    best: tuple[float, float, dict[str, float]] | None = None
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo, strict=True))
        set_nuclei_constants(values)
        s = scores(count_nuclei(dev, cfg), lab)
        trials.append({"values": values, **s})
        print(f"  dev {values}: r={s['pearson_r']:.3f} MAE={s['mae_pct']:.1f}%")
        key = (round(s["mae_pct"], 1), -s["pearson_r"], values)
        if best is None or key[:2] < best[:2]:
            best = key
    set_nuclei_constants(original)
    assert best is not None
    return best[2], trials


def learned_loso(items: list[Item], epochs: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Held-out counts of the learned counter: ten fits, each scored on the speaker it left out
    (``models.train_syllables.loso``; train extra)."""
    from dataclasses import replace

    from models.syllable_data import build_examples
    from models.syllable_fit import TrainSettings
    from models.train_syllables import loso

    settings = replace(TrainSettings(), epochs=epochs)
    report = loso(build_examples([it.utt for it in items]), settings)
    clean = report["counts"]["clean"]
    return np.asarray([clean[it.utt.stem] for it in items]), report


def _table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'subset':<34}{'files':>6}{'r':>8}{'MAE %':>8}{'bias':>8}{'det':>7}{'lab':>7}")
    for name, s in rows.items():
        print(
            f"{name:<34}{s['files']:>6}{s['pearson_r']:>8.3f}{s['mae_pct']:>8.1f}"
            f"{s['mean_signed_error']:>8.2f}{s['mean_detected']:>7.2f}{s['mean_labelled']:>7.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tune", action="store_true", help="grid-search on the dev speakers first")
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.CONST=VALUE")
    ap.add_argument("--limit", type=int, default=0, help="every k-th file, about N files (smoke)")
    ap.add_argument(
        "--no-loso", action="store_true", help="skip the learned counter's LOSO fits (~8 min)"
    )
    ap.add_argument("--epochs", type=int, default=20, help="epochs of each LOSO fit")
    args = ap.parse_args(argv)
    cfg = FeatureConfig()
    overrides = apply_overrides(args.set)
    t0 = time.perf_counter()
    items = load_items(cfg)
    if args.limit:
        items = items[:: max(1, len(items) // args.limit)]
    trials: list[dict[str, Any]] = []
    tuned: dict[str, float] = {}
    if args.tune:
        tuned, trials = tune(items, cfg)
        set_nuclei_constants(tuned)
        print(f"best on dev speakers {DEV_SPEAKERS}: {tuned}")
    det = count_nuclei(items, cfg)
    is_dev = np.asarray([it.utt.speaker in DEV_SPEAKERS for it in items])
    lab = np.asarray([it.labels[VOWEL_RULE] for it in items])
    report: dict[str, Any] = {
        "rule": (
            f"labels: syllables whose vowel midpoint (lablaut) is < {CLIP_S:.2f} s; "
            f"detected: nuclei at t < {CLIP_S:.2f} s; learned: density summed over the file"
        ),
        "overrides": overrides,
        "tuned_on_dev": tuned,
        "dev_speakers": list(DEV_SPEAKERS),
        "by_cutoff": {},
        "by_emotion": {},
    }
    learned: np.ndarray | None = None
    if not args.no_loso:
        learned, loso_report = learned_loso(items, args.epochs)
        report["learned_loso"] = {k: v for k, v in loso_report.items() if k != "counts"}
        rows = {"learned counter, LOSO": scores(learned, lab)}
        for variant in ("phone", "noisy"):
            got = loso_report["counts"][variant]
            rows[f"learned, LOSO, {variant} copies"] = scores(
                np.asarray([got[it.utt.stem] for it in items]), lab
            )
        report["learned"] = rows
        _table(f"{len(items)} files; learned counter (held-out speaker each time)", rows)

    keys: list[float | str] = [VOWEL_RULE]
    keys += sorted(k for k in items[0].labels if not isinstance(k, str))
    for cut in keys:
        lab_cut = np.asarray([it.labels[cut] for it in items])
        rows = {
            "all": scores(det, lab_cut),
            "dev": scores(det[is_dev], lab_cut[is_dev]),
            "held-out": scores(det[~is_dev], lab_cut[~is_dev]),
        }
        key = cut if isinstance(cut, str) else f"onset<{cut:.2f}"
        report["by_cutoff"][key] = rows
        _table(f"intensity peaks (De Jong), labels: {key}", rows)

    print("\nper emotion (syllables/s over the 2.0 s files, vowel-midpoint rule)")
    print(f"{'emotion':<12}{'files':>6}{'labelled':>10}{'learned':>10}{'peaks':>10}")
    emo = np.asarray([it.utt.emotion for it in items])
    for letter, name in EMOTIONS.items():
        m = emo == letter
        if not m.any():
            continue
        row = {
            "files": int(m.sum()),
            "labelled_sps": float(lab[m].mean() / CLIP_S),
            "learned_sps": float(learned[m].mean() / CLIP_S) if learned is not None else None,
            "detected_sps": float(det[m].mean() / CLIP_S),
            "learned_mae_pct": scores(learned[m], lab[m])["mae_pct"]
            if learned is not None
            else None,
            "peaks_mae_pct": scores(det[m], lab[m])["mae_pct"],
        }
        report["by_emotion"][name] = row
        lr = f"{row['learned_sps']:>10.2f}" if learned is not None else f"{'-':>10}"
        print(
            f"{name:<12}{row['files']:>6}{row['labelled_sps']:>10.2f}{lr}{row['detected_sps']:>10.2f}"
        )
    report["tune_trials"] = trials
    report["wall_s"] = time.perf_counter() - t0
    report["config_digest"] = cfg.digest()
    print(f"\n{report['wall_s']:.0f} s")
    write_results("emodb_syllables", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
