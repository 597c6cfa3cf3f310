"""Speed of the streaming front-end against openSMILE eGeMAPS LLDs and Praat pitch, one core.

Run: ``.venv/bin/python -m bench.frontend_speed [--quick] [--minutes M] [--runs R]``.

EmoDB files (22,050 Hz) are resampled to 16 kHz and concatenated into one long signal (at least
10 minutes by default; ``--quick``: 1 minute, 3 runs). Each contender is timed ``--runs`` times
(median reported) on that signal, with every numeric thread pool limited to one thread:

* ``frontend``: :class:`edge.features.frontend.FrontEnd` fed 100 ms blocks (as on the device),
  pitch included;
* ``frontend_no_pitch``: the same with a do-nothing pitch analyser (the pitch tracker's share);
* ``frontend_one_net``: as ``frontend``, with only the first network of the shipped syllable
  ensemble (present only when the file holds several: the ensemble's share of the cost);
* ``frontend_peaks``: as ``frontend``, counting intensity-peak nuclei instead of the learned
  counter (``audio.learned_syllables = false``);
* ``frontend_1s_blocks``: the full front-end fed 1 s blocks (throughput without per-call overhead);
* ``frontend_device``: the device's batching: 100 ms blocks, ``min_batch_hops=25``
  (``audio.analysis_batch_s = 0.25``: analyses every 250 ms, up to 240 ms more latency, much less
  per-call overhead), with intensity-peak syllable counting (``audio.learned_syllables = false``;
  the device's default is the learned counter, whose share is ``frontend`` - ``frontend_peaks``);
* ``opensmile``: ``opensmile.Smile(eGeMAPSv02, LowLevelDescriptors).process_signal(x, 16000)``;
* ``praat_pitch``: ``parselmouth.Sound(x, 16000).to_pitch()``.

Real-time factor (RTF) = CPU time of the process / audio duration (wall time is printed too).
Prints a table and writes ``bench/results/frontend_speed.json``. The machine is shared, so compare
the ratios of one run rather than absolute times across runs.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from bench.results import write_results  # noqa: E402
from edge.features.config import FeatureConfig  # noqa: E402
from edge.features.frames import FrameBatch  # noqa: E402
from edge.features.frontend import FrontEnd  # noqa: E402
from edge.features.syllables import default_net  # noqa: E402
from models.emodb import utterances  # noqa: E402

SR = 16_000
BLOCK = 1_600


@dataclass(frozen=True)
class _NoPitch:
    """Pitch stand-in that finds nothing (to time the rest of the front-end)."""

    frame_length: int
    context_hops: int = 0

    def candidates(self, frames: np.ndarray) -> np.ndarray:
        return np.zeros((frames.shape[0], 0), np.float32)

    def finish(self, frames: np.ndarray, candidates: np.ndarray, context: int) -> _NoPitchFrames:
        n = frames.shape[0]
        nan = np.full(n, np.nan, np.float32)
        return _NoPitchFrames(nan, np.zeros(n, np.float32), nan, nan)


@dataclass(frozen=True)
class _NoPitchFrames:
    f0_hz: np.ndarray
    voicing: np.ndarray
    jitter: np.ndarray
    shimmer: np.ndarray


def load_signal(seconds: float) -> np.ndarray:
    """EmoDB files resampled to 16 kHz, concatenated until ``seconds`` of audio (float32)."""
    parts: list[np.ndarray] = []
    total = 0
    utts = utterances()
    while total < seconds * SR:
        for u in utts:
            y = u.read_16k(SR)
            parts.append(y)
            total += len(y)
            if total >= seconds * SR:
                break
    return np.concatenate(parts)[: int(seconds * SR)]


def run_frontend(fe: FrontEnd, x: np.ndarray, block: int = BLOCK) -> int:
    out = [fe.process(x[i : i + block]) for i in range(0, len(x), block)]
    out.append(fe.flush())
    return len(FrameBatch.concat(out))


def time_once(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) for one call. CPU time is the figure used:
    on a shared machine it is far steadier than wall time (single-threaded code: CPU <= wall)."""
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def limit_threads() -> str:
    """Limit already-loaded thread pools too (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "env vars only"
    threadpool_limits(1)
    return "env vars + threadpoolctl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 minute of audio, 3 runs")
    ap.add_argument("--minutes", type=float, default=None, help="audio length (default 10)")
    ap.add_argument("--runs", type=int, default=None, help="timed runs each (default 5)")
    ap.add_argument("--skip-praat", action="store_true")
    ap.add_argument("--skip-opensmile", action="store_true")
    args = ap.parse_args(argv)
    minutes = args.minutes if args.minutes is not None else (1.0 if args.quick else 10.0)
    runs = args.runs if args.runs is not None else (3 if args.quick else 5)
    threads = limit_threads()

    x = load_signal(minutes * 60.0)
    dur = len(x) / SR
    cfg = FeatureConfig()
    contenders: dict[str, Callable[[], object]] = {}
    fe = FrontEnd(cfg)
    contenders["frontend"] = lambda: run_frontend(fe, x)
    fe_np = FrontEnd(cfg, _NoPitch(int(fe.pitch.frame_length)))
    contenders["frontend_no_pitch"] = lambda: run_frontend(fe_np, x)
    shipped = default_net()
    if len(shipped.members) > 1:
        fe_one = FrontEnd(cfg, syllable_net=shipped.members[0], learned_syllables=True)
        contenders["frontend_one_net"] = lambda: run_frontend(fe_one, x)
    fe_peaks = FrontEnd(cfg, learned_syllables=False)
    contenders["frontend_peaks"] = lambda: run_frontend(fe_peaks, x)
    contenders["frontend_1s_blocks"] = lambda: run_frontend(fe, x, 10 * BLOCK)
    fe_d = FrontEnd(cfg, min_batch_hops=25, learned_syllables=False)
    contenders["frontend_device"] = lambda: run_frontend(fe_d, x)
    if not args.skip_opensmile:
        import opensmile

        smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02,
            feature_level=opensmile.FeatureLevel.LowLevelDescriptors,
        )
        contenders["opensmile"] = lambda: smile.process_signal(x, SR)
    if not args.skip_praat:
        import parselmouth

        x64 = x.astype(np.float64)
        contenders["praat_pitch"] = lambda: parselmouth.Sound(x64, SR).to_pitch()

    # Warm-up on a short piece (imports, caches), then interleave runs so load spikes on the
    # shared machine hit every contender alike.
    short = x[: 5 * SR]
    run_frontend(FrontEnd(cfg), short)
    cpu: dict[str, list[float]] = {k: [] for k in contenders}
    wall: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            c, w = time_once(fn)
            cpu[name].append(c)
            wall[name].append(w)

    rtf = {k: statistics.median(v) / dur for k, v in cpu.items()}
    rows = []
    print(f"audio: {dur:.0f} s at {SR} Hz, {runs} runs each, median CPU time; threads: {threads}")
    print(
        f"{'contender':<20}{'CPU s':>8}{'wall s':>8}{'RTF':>9}{'x realtime':>12}"
        f"{'vs openSMILE':>14}"
    )
    for name, r in rtf.items():
        vs = r / rtf["opensmile"] if "opensmile" in rtf else float("nan")
        w = statistics.median(wall[name])
        print(f"{name:<20}{r * dur:>8.2f}{w:>8.2f}{r:>9.4f}{1 / r:>12.0f}{vs:>14.3f}")
        rows.append({"name": name, "cpu_s": cpu[name], "wall_s": wall[name], "rtf_cpu_median": r})
    summary: dict[str, float] = {}
    if "opensmile" in rtf:
        summary["frontend_over_opensmile"] = rtf["frontend"] / rtf["opensmile"]
        summary["frontend_1s_blocks_over_opensmile"] = rtf["frontend_1s_blocks"] / rtf["opensmile"]
        summary["frontend_device_over_opensmile"] = rtf["frontend_device"] / rtf["opensmile"]
        # openSMILE gets the whole signal in one call; the like-for-like front-end run is the
        # one with 1 s calls (how ``poise analyze`` runs). Streaming costs more per second.
        like = summary["frontend_1s_blocks_over_opensmile"]
        print(
            f"front-end RTF / openSMILE RTF, 1 s calls (file analysis): {like:.3f} "
            f"(target <= 0.2: {'PASS' if like <= 0.2 else 'FAIL'}); "
            f"as on the device: {summary['frontend_device_over_opensmile']:.3f}; "
            f"100 ms calls: {summary['frontend_over_opensmile']:.3f}"
        )
    if "praat_pitch" in rtf:
        summary["frontend_over_praat_pitch"] = rtf["frontend"] / rtf["praat_pitch"]
    summary["pitch_share"] = 1.0 - rtf["frontend_no_pitch"] / rtf["frontend"]
    # Fixed cost per process() call: 100 ms blocks make 10x the calls of 1 s blocks.
    calls_100ms, calls_1s = -(-len(x) // BLOCK), -(-len(x) // (10 * BLOCK))
    extra_s = (rtf["frontend"] - rtf["frontend_1s_blocks"]) * dur
    summary["per_call_overhead_us"] = 1e6 * extra_s / (calls_100ms - calls_1s)
    print(
        f"per-call overhead (100 ms vs 1 s blocks): {summary['per_call_overhead_us']:.0f} us"
        f" per process() call"
    )
    print(f"pitch tracker share of front-end time: {summary['pitch_share']:.0%}")
    out = {
        "audio_s": dur,
        "runs": runs,
        "block_samples": BLOCK,
        "threads": threads,
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "contenders": rows,
        "summary": summary,
        "config_digest": cfg.digest(),
    }
    write_results("frontend_speed", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
