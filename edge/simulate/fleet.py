"""Full-mode desks spread over worker processes (the device loop is CPU-bound: one GIL each)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import threading
from collections.abc import Sequence
from typing import Any

from edge.simulate.desk import DeskResult, DeskSpec, run_desks

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 30.0
"""How long a stopping worker may take to drain its desks' sinks before it is terminated."""


def _worker(specs: Sequence[DeskSpec], stop_mp: Any, out: Any, level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=_bridge, args=(stop_mp, stop), daemon=True).start()
    results = run_desks(specs, stop)
    out.put([(r.device, r.audio_s, r.events, r.cues) for r in results])


def run_full(specs: Sequence[DeskSpec], processes: int, stop: threading.Event) -> list[DeskResult]:
    """Run ``specs`` on ``processes`` workers until they end (``duration_s``) or ``stop`` is set."""
    ctx = mp.get_context("spawn")
    stop_mp = ctx.Event()
    out = ctx.Queue()
    groups = [list(specs[i::processes]) for i in range(processes)]
    level = logging.getLogger().getEffectiveLevel()
    workers = [
        ctx.Process(target=_worker, args=(g, stop_mp, out, level), name=f"desks-{i}")
        for i, g in enumerate(groups)
        if g
    ]
    for w in workers:
        w.start()
    results: list[DeskResult] = []
    pending = len(workers)
    while pending:
        if stop.is_set():
            stop_mp.set()
        try:
            rows = out.get(timeout=0.2)
        except Exception:  # queue.Empty
            if not any(w.is_alive() for w in workers) and out.empty():
                break
            continue
        pending -= 1
        results += [DeskResult(d, a, e, list(c)) for d, a, e, c in rows]
    for w in workers:
        w.join(JOIN_TIMEOUT_S)
        if w.is_alive():
            log.warning("worker %s did not stop: terminating it", w.name)
            w.terminate()
            w.join(5)
    return sorted(results, key=lambda r: r.device)


def _bridge(stop_mp: Any, stop: threading.Event) -> None:
    """Set the worker's ``stop`` when the parent sets ``stop_mp``."""
    stop_mp.wait()
    stop.set()
