"""Device-loop cost: time per 100 ms block and peak memory, two channels, model if present.

A few minutes of synthetic two-channel call audio (espeak-ng turn-taking) are written to a temp
WAV; a fresh child process then streams it through :class:`~edge.device.pipeline.Pipeline` block by
block (as ``poise edge run`` does, minus the sleeps) and reports per-block processing time
percentiles and the peak resident set (VmHWM). Targets: p99 <= 20 ms per 100 ms block,
RSS <= 100 MB.

Usage: ``.venv/bin/python -m bench.device_loop [--minutes 5] [--no-model]``.
Writes bench/results/device_loop.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import write_results


def peak_rss_mb() -> float:
    """VmHWM from /proc (falls back to getrusage), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(wav: str, use_model: bool) -> dict[str, Any]:
    from edge.audio.wav_source import WavFileSource
    from edge.device.arousal import load_arousal_model
    from edge.device.pipeline import Pipeline
    from edge.settings import load_settings

    settings = load_settings(None, [] if use_model else ["model.enabled=false"])
    model = load_arousal_model(settings.model, settings.features)
    src = WavFileSource(wav, block_frames=1600, target_rate=16000)
    pipe = Pipeline(settings, model_factory=model)
    rss_start = peak_rss_mb()
    times = []
    cpu = []
    audio_s = 0.0
    n_events = 0
    for block in src.blocks():
        t0 = time.perf_counter()
        c0 = time.thread_time()
        n_events += len(pipe.step(block))
        cpu.append(time.thread_time() - c0)
        times.append(time.perf_counter() - t0)
        audio_s += block.duration_s
    n_events += len(pipe.flush())
    ms = np.asarray(times) * 1e3
    cpu_ms = np.asarray(cpu) * 1e3
    return {
        "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 2),
        "cpu_p99_ms": round(float(np.percentile(cpu_ms, 99)), 2),
        "cpu_max_ms": round(float(cpu_ms.max()), 2),
        "load_average": list(os.getloadavg()),
        "audio_s": round(audio_s, 1),
        "blocks": len(times),
        "block_ms": 100.0,
        "model": model is not None,
        "detectors": list(pipe.running),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p90_ms": round(float(np.percentile(ms, 90)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "realtime_factor": round(float(ms.sum() / 1e3 / audio_s), 4),
        "rss_before_stream_mb": round(rss_start, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "events": n_events,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--measure", metavar="WAV", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, not args.no_model)))
        return 0
    from bench.call_builder import Call
    from bench.scenario_audio import write_wav

    call = Call(seed=42)
    call.calm(args.minutes * 60)
    with tempfile.TemporaryDirectory() as d:
        wav = write_wav(Path(d) / "call.wav", call.audio())
        cmd = [sys.executable, "-m", "bench.device_loop", "--measure", str(wav)]
        if args.no_model:
            cmd.append("--no-model")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    ok_t = r["p99_ms"] <= 20.0
    ok_m = r["peak_rss_mb"] <= 100.0
    print(
        f"{'audio':>8s} {'model':>6s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s} "
        f"{'RT factor':>9s} {'peak RSS':>9s}"
    )
    print(
        f"{r['audio_s']:7.0f}s {('yes' if r['model'] else 'no'):>6s} {r['p50_ms']:6.2f}ms "
        f"{r['p90_ms']:6.2f}ms {r['p99_ms']:6.2f}ms {r['max_ms']:6.2f}ms "
        f"{r['realtime_factor']:9.3f} {r['peak_rss_mb']:7.1f}MB"
    )
    print(
        "CPU time of this thread per block (not inflated by other processes): "
        f"p50 {r['cpu_p50_ms']:.2f} ms, p99 {r['cpu_p99_ms']:.2f} ms, max {r['cpu_max_ms']:.2f} ms"
        f"; load average {r['load_average'][0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"p99 <= 20 ms per 100 ms block: {'PASS' if ok_t else 'FAIL'}; "
        f"peak RSS <= 100 MB: {'PASS' if ok_m else 'FAIL'}"
    )
    write_results("device_loop", r, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
