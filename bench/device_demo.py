"""Write a scripted two-channel call for ``make edge-demo``: calm turn-taking, a fast stretch,
talking over the customer, a long monologue and dead air (espeak-ng, ~6 minutes).

Usage: ``.venv/bin/python -m bench.device_demo OUT.wav``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge.simulate.call_builder import Call
from edge.simulate.speech import write_wav


def build() -> Call:
    call = Call(seed=7)
    call.calm(200)
    call.agent_says(30, rate=260)
    call.pause(0.8)
    call.customer_says(3)
    call.pause(0.8)
    call.calm(30)
    call.agent_says(3)
    call.both(5)
    call.pause(0.8)
    call.calm(30)
    call.agent_says(70, gap_s=0.8)
    call.pause(0.8)
    call.calm(20)
    call.pause(14)
    call.calm(20)
    return call


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.device_demo OUT.wav", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    call = build()
    write_wav(out, call.audio())
    print(f"wrote {out} ({call.now:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
