"""A device process for the kill tests: runs the real publisher on synthetic metrics windows.

``python -m tests.telemetry.driver --state DIR --broker URL --count N [...]`` stores ``N``
windows through the telemetry sink (policy filter included), prints progress lines (``BOOT b``,
``STORED n``, ``CONNECTED``, ``STALLED``, ``DRAINED``, ``DONE``) and then either exits cleanly
once drained (``--exit-when-drained``) or runs until killed. ``--kill-after-write SEQ`` SIGKILLs
the process right after message SEQ is committed to the outbox and before it can be sent (a power
cut between write and send); ``--stall-after-acks K`` freezes the network thread after K
acknowledgements (so a test can SIGKILL the process mid-drain at a known point).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from edge.protocols import MonotonicClock
from edge.settings import PolicySettings, load_settings
from edge.telemetry.control import BirthInfo
from edge.telemetry.publisher import Publisher
from edge.telemetry.settings import TelemetrySettings
from edge.telemetry.sink import TelemetrySink
from tests.telemetry.synthetic import window


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--device", default="desk-1")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--inflight", type=int, default=20)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--kill-after-write", type=int, default=-1)
    ap.add_argument("--stall-after-acks", type=int, default=-1)
    ap.add_argument("--exit-when-drained", action="store_true")
    ap.add_argument("--wait-connected", action="store_true")
    ap.add_argument("--drain-timeout", type=float, default=60.0)
    args = ap.parse_args(argv)

    settings = TelemetrySettings(
        broker=args.broker,
        site="site-1",
        device=args.device,
        state_dir=Path(args.state),
        inflight=args.inflight,
        backoff_min_s=0.05,
        backoff_max_s=0.3,
        health_interval_s=3600.0,
    )
    policy: PolicySettings = load_settings(None, [f"policy.profile={args.profile}"]).policy
    birth = BirthInfo("0.1.0", None, None, args.profile, ("pace",))

    def on_stored(boot: int, seq: int) -> None:
        if seq == args.kill_after_write:
            os.kill(os.getpid(), signal.SIGKILL)

    pub = Publisher.open(settings, birth, MonotonicClock(), time.time, on_stored=on_stored)
    say(f"BOOT {pub.boot}")
    if args.stall_after_acks >= 0:
        real_ack = pub.outbox.ack
        acks = [0]

        def ack(boot: int, seq: int) -> bool:
            done = real_ack(boot, seq)
            acks[0] += 1
            if acks[0] >= args.stall_after_acks:
                say("STALLED")
                threading.Event().wait()  # frozen until killed
            return done

        pub.outbox.ack = ack  # type: ignore[method-assign]
    sink = TelemetrySink(pub, policy)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    pub.start()
    if args.wait_connected and pub.wait_connected(30):
        say("CONNECTED")
    for i in range(args.count):
        sink.handle(window(i))
    say(f"STORED {pub.next_seq}")
    if args.exit_when_drained:
        if pub.wait_drained(args.drain_timeout):
            say("DRAINED")
        sink.close()
        say("DONE")
        return 0
    stop.wait()
    sink.close()
    say("DONE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
