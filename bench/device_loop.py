"""Device-loop cost: time per 100 ms block and peak memory, two channels, model if present.

A few minutes of synthetic two-channel call audio (espeak-ng turn-taking) are written to a temp
WAV; a fresh child process then streams it through :class:`~edge.device.pipeline.Pipeline` block by
block (as ``poise edge run`` does, minus the sleeps) and reports per-block processing time
percentiles and the peak resident set (VmHWM). Targets: p99 <= 20 ms per 100 ms block,
RSS <= 100 MB.

With the publisher on (``telemetry``, broker down: every message goes to the outbox) the same
stream is measured again in the same run, alternating off/on twice, and the ratios of per-block
time and peak RSS on/off are printed (``--no-telemetry`` skips this).

Usage: ``.venv/bin/python -m bench.device_loop [--minutes 5] [--no-model] [--no-telemetry]``.
Writes bench/results/device_loop.json.
"""

from __future__ import annotations

import argparse
import dataclasses
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


def _telemetry(settings: Any, state_dir: str, running: tuple[str, ...]) -> Any:
    """The MQTT publisher with its broker down (nothing listens on the port): every message
    goes to the outbox and reconnects back off, as on a unit that lost its network."""
    import socket

    from edge.protocols import MonotonicClock
    from edge.telemetry.setup import birth_info, start_telemetry

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tele = dataclasses.replace(
        settings.telemetry, broker=f"mqtt://127.0.0.1:{port}", state_dir=Path(state_dir)
    )
    settings = dataclasses.replace(settings, telemetry=tele)
    birth = birth_info(settings, running, model_loaded=False)
    return start_telemetry(settings, birth, MonotonicClock(), time.time)


def measure(wav: str, use_model: bool, telemetry_dir: str | None = None) -> dict[str, Any]:
    from edge.audio.wav_source import WavFileSource
    from edge.device.arousal import load_arousal_model
    from edge.device.pipeline import Pipeline
    from edge.settings import load_settings

    settings = load_settings(None, [] if use_model else ["model.enabled=false"])
    model = load_arousal_model(settings.model, settings.features)
    src = WavFileSource(wav, block_frames=1600, target_rate=16000)
    pipe = Pipeline(settings, model_factory=model)
    tele = _telemetry(settings, telemetry_dir, pipe.running) if telemetry_dir else None
    rss_start = peak_rss_mb()
    times = []
    cpu = []
    audio_s = 0.0
    n_events = 0
    for block in src.blocks():
        t0 = time.perf_counter()
        c0 = time.thread_time()
        events = pipe.step(block)
        if tele is not None:
            for ev in events:
                tele.sink.handle(ev)  # what the runner does: a bounded enqueue
        n_events += len(events)
        cpu.append(time.thread_time() - c0)
        times.append(time.perf_counter() - t0)
        audio_s += block.duration_s
    n_events += len(pipe.flush())
    stored = 0
    if tele is not None:
        tele.sink.join(30.0)
        stored = tele.publisher.stream.stored
        tele.sink.close()
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
        "telemetry": tele is not None,
        "telemetry_stored": stored,
    }


def _child(wav: str, no_model: bool, telemetry_dir: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.device_loop", "--measure", wav]
    if no_model:
        cmd.append("--no-model")
    if telemetry_dir:
        cmd += ["--telemetry-dir", telemetry_dir]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument(
        "--no-telemetry", action="store_true", help="skip the run with the publisher on"
    )
    ap.add_argument("--measure", metavar="WAV", help=argparse.SUPPRESS)
    ap.add_argument("--telemetry-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, not args.no_model, args.telemetry_dir)))
        return 0
    from bench.call_builder import Call
    from bench.scenario_audio import write_wav

    call = Call(seed=42)
    call.calm(args.minutes * 60)
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as d:
        wav = str(write_wav(Path(d) / "call.wav", call.audio()))
        # same run, alternating, so both see the same machine load
        order = ["off"] if args.no_telemetry else ["off", "on", "off2", "on2"]
        for name in order:
            tdir = str(Path(d) / f"telemetry-{name}") if name.startswith("on") else None
            runs[name] = _child(wav, args.no_model, tdir)
    r = runs["off"]
    ok_t = r["p99_ms"] <= 20.0
    ok_m = r["peak_rss_mb"] <= 100.0
    print(
        f"{'publisher':>22s} {'audio':>6s} {'model':>5s} {'p50':>7s} {'p90':>7s} {'p99':>7s} "
        f"{'max':>7s} {'RT factor':>9s} {'peak RSS':>9s} {'stored':>6s}"
    )
    for name, x in runs.items():
        label = "on, broker down" if name.startswith("on") else "off"
        print(
            f"{label + (' (2)' if name.endswith('2') else ''):>22s} {x['audio_s']:5.0f}s "
            f"{('yes' if x['model'] else 'no'):>5s} {x['p50_ms']:6.2f}ms {x['p90_ms']:6.2f}ms "
            f"{x['p99_ms']:6.2f}ms {x['max_ms']:6.2f}ms {x['realtime_factor']:9.3f} "
            f"{x['peak_rss_mb']:7.1f}MB {x['telemetry_stored']:6d}"
        )
    print(
        "CPU time of this thread per block (not inflated by other processes): "
        f"p50 {r['cpu_p50_ms']:.2f} ms, p99 {r['cpu_p99_ms']:.2f} ms, max {r['cpu_max_ms']:.2f} ms"
        f"; load average {r['load_average'][0]:.1f} on {os.cpu_count()} cores"
    )
    doc: dict[str, Any] = dict(r)
    if not args.no_telemetry:
        on = [runs["on"], runs["on2"]]
        off = [runs["off"], runs["off2"]]
        ratios = {
            key: round(
                float(np.mean([x[key] for x in on])) / float(np.mean([x[key] for x in off])), 3
            )
            for key in ("p50_ms", "p99_ms", "cpu_p50_ms", "cpu_p99_ms", "peak_rss_mb")
        }
        doc["publisher_on_broker_down"] = runs["on"]
        doc["publisher_on_broker_down_2"] = runs["on2"]
        doc["publisher_off_2"] = runs["off2"]
        doc["ratio_on_over_off"] = ratios
        print(
            "publisher on (broker down) / off, mean of two runs each: "
            + ", ".join(f"{k} x{v:.3f}" for k, v in ratios.items())
        )
    print(
        f"p99 <= 20 ms per 100 ms block: {'PASS' if ok_t else 'FAIL'}; "
        f"peak RSS <= 100 MB: {'PASS' if ok_m else 'FAIL'}"
    )
    write_results("device_loop", doc, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
