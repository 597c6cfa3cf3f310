"""Speed of the PitchTracker: 10 minutes of speech (60,000 hops) in one call and in small calls.

Run: ``.venv/bin/python -m bench.pitch_speed [--repeats N] [--no-smile]``. Prints a table and
writes ``bench/results/pitch_speed.json``.

Audio: EmoDB files (resampled to 16 kHz with soxr) joined end to end and cut at 600 s; if the
corpus is missing, a synthetic mix of harmonic tones with a vibrato and noise. Times are CPU
seconds of this process (``time.process_time``; less disturbed by other load than wall time),
the best of ``--repeats`` runs. For scale, openSMILE's eGeMAPS v02 low-level descriptors on the
same audio (the front-end's budget is 0.2 x that, and pitch is its largest part). Small calls
stream as the front-end does (``candidates`` of the new frames, the context's kept from the
previous call, then ``finish``; 25 hops is the device's 250 ms analysis batch).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.results import write_results
from edge.errors import InputError
from edge.features.config import FeatureConfig
from edge.features.pitch import PitchTracker

SR = 16_000
SECONDS = 600


def speech(seconds: int) -> tuple[np.ndarray, str]:
    try:
        from models.emodb import utterances

        parts, total = [], 0
        for u in utterances():
            y = u.read_16k(SR)
            parts.append(y)
            total += len(y)
            if total >= seconds * SR:
                break
        if total >= seconds * SR:
            return np.concatenate(parts)[: seconds * SR], "emodb"
    except InputError:
        pass
    rng = np.random.default_rng(0)
    t = np.arange(seconds * SR) / SR
    f0 = 150 * 2 ** (0.3 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = np.sum([np.sin(k * phase) / k for k in range(1, 9)], axis=0)
    x = 0.2 * x * (np.sin(2 * np.pi * 0.3 * t) > -0.2) + 0.01 * rng.standard_normal(len(t))
    return x.astype(np.float32), "synthetic"


def frames_of(x: np.ndarray, length: int, hop: int) -> np.ndarray:
    n = len(x) // hop
    pad = np.pad(x, (length, length))
    starts = np.arange(n) * hop + hop // 2 - length // 2 + length
    return pad[starts[:, None] + np.arange(length)[None, :]]


def best_cpu(fn: object, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()  # type: ignore[operator]
        best = min(best, time.process_time() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-smile", action="store_true", help="skip the openSMILE reference")
    args = ap.parse_args(argv)

    cfg = FeatureConfig()
    tracker = PitchTracker(cfg)
    x, source = speech(SECONDS)
    frames = frames_of(x, tracker.frame_length, cfg.hop).astype(np.float32)
    n = len(frames)
    res = tracker.analyze(frames)
    voiced_share = float(np.isfinite(res.f0_hz).mean())

    rows: dict[str, dict[str, float]] = {}
    t_all = best_cpu(lambda: tracker.analyze(frames), args.repeats)
    rows["one call, 60k hops"] = {"cpu_s": t_all, "us_per_hop": 1e6 * t_all / n}
    unvoiced = PitchTracker(
        FeatureConfig(voicing_threshold=1.01)
    )  # nothing voiced: no jitter/shimmer work
    t_f0 = best_cpu(lambda: unvoiced.analyze(frames), args.repeats)
    rows["  of which F0/voicing"] = {"cpu_s": t_f0, "us_per_hop": 1e6 * t_f0 / n}
    c = tracker.context_hops
    for size in (1, 3, 10, 25, 100):
        sub = frames[: min(n, 3000 if size > 1 else 1000) + 2 * c]

        def calls(sub: np.ndarray = sub, size: int = size) -> None:
            # As the front-end streams: candidates of the new frames only, the context's kept.
            ahead = tracker.candidates(sub[: 2 * c])
            for a in range(0, len(sub) - 2 * c, size):
                b = min(a + size, len(sub) - 2 * c)
                cands = np.concatenate([ahead, tracker.candidates(sub[a + 2 * c : b + 2 * c])])
                tracker.finish(sub[a + c : b + c], cands, c)
                ahead = cands[len(cands) - 2 * c :]

        t = best_cpu(calls, max(1, args.repeats // 2))
        per_hop = t / (len(sub) - 2 * c)
        rows[f"calls of {size} hop(s)"] = {"cpu_s": per_hop * n, "us_per_hop": 1e6 * per_hop}

    smile_s = float("nan")
    if not args.no_smile:
        import opensmile

        smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02,
            feature_level=opensmile.FeatureLevel.LowLevelDescriptors,
        )
        clip = np.clip(x, -1.0, 32767 / 32768)
        smile_s = best_cpu(lambda: smile.process_signal(clip, SR), max(1, args.repeats // 2))

    print(f"{source} audio, {len(x) / SR:.0f} s, {n} hops, {100 * voiced_share:.0f} % voiced")
    print(f"{'':26s} {'CPU s/600 s':>12s} {'us/hop':>8s} {'RTF':>8s}")
    for name, r in rows.items():
        rtf = r["cpu_s"] / (len(x) / SR)
        print(f"{name:26s} {r['cpu_s']:12.3f} {r['us_per_hop']:8.1f} {rtf:8.5f}")
    if np.isfinite(smile_s):
        print(
            f"{'openSMILE eGeMAPS LLD':26s} {smile_s:12.3f} {'':8s} {smile_s / (len(x) / SR):8.5f}"
            f"   -> pitch (one call) = {t_all / smile_s:.3f} x openSMILE"
        )
    out = {
        "source": source,
        "seconds": len(x) / SR,
        "hops": n,
        "voiced_share": voiced_share,
        "rows": rows,
        "opensmile_egemaps_lld_cpu_s": smile_s,
        "pitch_over_opensmile": t_all / smile_s if np.isfinite(smile_s) else None,
    }
    write_results("pitch_speed", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
