"""Peak memory of ``poise analyze`` and ``poise edge run`` on lying WAV headers (issue #10).

``python -m bench.bad_headers``: 96 KB files whose header declares 1 Hz or 4e9 Hz (before the
fix: > 24 GB until killed, and 3.7 GB with exit 0), a header claiming a 4 GB data chunk, and for
comparison a valid 96 KB file and a valid 10-minute 48 kHz stereo call, which show that memory
follows the block, not the file. Each command runs in its own process; peak RSS is that
process's ``ru_maxrss`` (``os.wait4``). Prints a table and writes bench/results/bad_headers.json.
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import write_results

REPO = Path(__file__).resolve().parents[1]


def lying_wav(path: Path, rate: int, size: int = 96 * 1024, declared: int | None = None) -> Path:
    data = np.zeros((size - 44) // 2, "<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (rate * 2) % 2**32, 2, 16)
    n = len(data) if declared is None else declared
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", n)
    path.write_bytes(b"RIFF" + struct.pack("<I", (len(body) + len(data)) % 2**32) + body + data)
    return path


def long_call(path: Path, seconds: float = 600.0, rate: int = 48_000) -> Path:
    """Noise in 10 s chunks, so this process stays small (a child's ``ru_maxrss`` starts from
    the parent's size at fork)."""
    rng = np.random.default_rng(0)
    n = int(seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 2, rate, rate * 4, 4, 16)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", n * 4)
    with path.open("wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", len(body) + n * 4) + body)
        for start in range(0, n, 10 * rate):
            m = min(10 * rate, n - start)
            fh.write((rng.standard_normal((m, 2)) * 300).astype("<i2").tobytes())
    return path


def measure(args: list[str], cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, peak RSS MB, wall s, first error line) of ``python -m edge ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_STATE_HOME": str(cwd / "state")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    line = next((x for x in err.splitlines() if x.startswith("poise: error:")), "")
    return proc.returncode, usage.ru_maxrss / 1024.0, wall, line


def main() -> None:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files = {
            "header 1 Hz (96 KB)": lying_wav(d / "one_hz.wav", 1),
            "header 4e9 Hz (96 KB)": lying_wav(d / "four_ghz.wav", 4_000_000_000),
            "header claims 4 GB data (96 KB)": lying_wav(d / "huge.wav", 16000, declared=2**32 - 2),
            "valid 16 kHz mono (96 KB)": lying_wav(d / "ok.wav", 16000),
            "valid 48 kHz stereo, 10 min (110 MB)": long_call(d / "long.wav"),
        }
        for label, path in files.items():
            for cmd, args in (
                ("analyze", ["analyze", str(path), "-q"]),
                (
                    "edge run",
                    [
                        "edge",
                        "run",
                        "--source",
                        f"wav:{path}",
                        "--cue",
                        "none",
                        "--set",
                        "model.enabled=false",
                    ],
                ),
            ):
                rc, rss, wall, err = measure(args, d)
                rows.append(
                    {
                        "file": label,
                        "command": cmd,
                        "exit": rc,
                        "peak_rss_mb": rss,
                        "wall_s": wall,
                        "error": err,
                    }
                )
    print(f"{'file':<38} {'command':<9} {'exit':>4} {'peak RSS':>10} {'wall':>7}  error")
    for r in rows:
        print(
            f"{r['file']:<38} {r['command']:<9} {r['exit']:>4} {r['peak_rss_mb']:>7.0f} MB "
            f"{r['wall_s']:>6.1f}s  {r['error'][:70]}"
        )
    print(f"(this process: {own:.0f} MB before the runs; a child's peak cannot be below it)")
    write_results("bad_headers", {"rows": rows, "parent_rss_mb": own})


if __name__ == "__main__":
    main()
