"""Front-end spectral tilt, level and F0 against openSMILE's eGeMAPS v02 low-level descriptors.

Run: ``.venv/bin/python -m bench.features_vs_opensmile [--limit N]``. Prints a table and writes
``bench/results/features_vs_opensmile.json``.

openSMILE is the reference implementation of eGeMAPS; this checks that Poise's alpha ratio and
Hammarberg index follow the same conventions (sign, bands) and track the same frame-to-frame
changes, and that level and F0 agree. EmoDB files are resampled to 16 kHz; both front-ends see the
same signal. openSMILE frames (10 ms apart, ``sma3`` = 3-frame moving average) are matched to the
Poise hop with the nearest centre, and Poise's values get the same 3-frame smoothing. Only frames
Poise calls speech are compared; F0 only where both call the frame voiced. Syllable counts and
speed have their own benches (``emodb_syllables``, ``frontend_speed``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.results import write_results
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.features.frontend import FrontEnd
from models.emodb import utterances

#: (our column, openSMILE column): compared after the same smoothing.
PAIRS = {
    "alpha_ratio_db": "alphaRatio_sma3",
    "hammarberg_db": "hammarbergIndex_sma3",
    "level_dbfs": "Loudness_sma3",
    "f0_st": "F0semitoneFrom27.5Hz_sma3nz",
}


def sma3(a: np.ndarray) -> np.ndarray:
    """openSMILE's 3-frame moving average (edges repeated)."""
    p = np.concatenate([a[:1], a, a[-1:]])
    return np.asarray((p[:-2] + p[1:-1] + p[2:]) / 3.0)


def main() -> None:
    import opensmile

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="only N utterances (spread over speakers)")
    args = ap.parse_args()
    cfg = FeatureConfig()
    utts = utterances()
    if args.limit:
        utts = utts[:: max(1, len(utts) // args.limit)][: args.limit]
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.LowLevelDescriptors,
    )
    fe = FrontEnd(cfg)
    ours: dict[str, list[np.ndarray]] = {k: [] for k in PAIRS}
    refs: dict[str, list[np.ndarray]] = {k: [] for k in PAIRS}
    t0 = time.perf_counter()
    for u in utts:
        x = u.read_16k(cfg.sample_rate)
        out = FrameBatch.concat([fe.process(x), fe.flush()])
        df = smile.process_signal(x, cfg.sample_rate)
        start = df.index.get_level_values("start").total_seconds().to_numpy()
        end = df.index.get_level_values("end").total_seconds().to_numpy()
        idx = np.clip(np.round((start + end) / 2 / cfg.hop_s - 0.5).astype(int), 0, len(out) - 1)
        speech = out.vad[idx]
        for name, col in PAIRS.items():
            a = getattr(out, name).astype(np.float64)
            a = (a if name == "f0_st" else sma3(a))[idx]
            b = df[col].to_numpy(np.float64)
            keep = speech & np.isfinite(a) & np.isfinite(b)
            if name == "f0_st":
                keep &= b > 0  # openSMILE writes 0 when unvoiced
            if name == "level_dbfs":  # loudness is a sone-like scale: compare its log
                b = 10.0 * np.log10(np.maximum(b, 1e-6))
            ours[name].append(a[keep])
            refs[name].append(b[keep])
    result: dict[str, object] = {
        "utterances": len(utts),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print(f"{len(utts)} EmoDB files, speech frames only")
    header = ("feature", "frames", "pearson r", "median |diff|", "mean diff")
    print(f"{header[0]:16s} {header[1]:>7s} {header[2]:>10s} {header[3]:>14s} {header[4]:>10s}")
    for name in PAIRS:
        a, b = np.concatenate(ours[name]), np.concatenate(refs[name])
        r = float(np.corrcoef(a, b)[0, 1])
        diff = a - b
        row = {
            "frames": len(a),
            "pearson_r": round(r, 4),
            "median_abs_diff": round(float(np.median(np.abs(diff))), 3),
            "mean_diff": round(float(diff.mean()), 3),
        }
        result[name] = row
        print(
            f"{name:16s} {row['frames']:>7d} {row['pearson_r']:>10.3f}"
            f" {row['median_abs_diff']:>14.3f} {row['mean_diff']:>10.3f}"
        )
    print("(level vs 10*log10(openSMILE loudness): only r is meaningful; diffs are in dB)")
    write_results("features_vs_opensmile", result)


if __name__ == "__main__":
    main()
