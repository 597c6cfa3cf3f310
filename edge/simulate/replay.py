"""``poise simulate --metrics-only``: thousands of devices speaking the contract, no audio.

Each device has its own MQTT connection (client id and retained last-will ``offline``/``lost``,
birth ``online`` on connect, ``offline``/``shutdown`` when stopped), a boot counter persisted
and fsynced per device before anything is sent (``edge.telemetry.boot``, as on a unit), and one
seq space for metrics, events and health. Every ``window_s`` of simulated time a device sends a
metrics window; calls start and end (call events), cues turn on and off inside calls (cue
events, counted in the window), health goes out every 60 s. Devices' phases are spread over the
window so the load is even. Payloads come from :class:`~edge.simulate.contract_device.SimDevice`
(the same maker the dashboard tests use).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import multiprocessing as mp
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.simulate.contract_device import SimDevice, topic_of
from edge.telemetry.boot import next_boot
from edge.telemetry.schemas import encode

log = logging.getLogger(__name__)

HEALTH_S = 60.0
CUES = ("pace", "overtalk", "monologue", "dead_air", "stress")


@dataclass(frozen=True)
class ReplayOptions:
    """What the metrics-only devices do."""

    mqtt: str
    """Broker URL."""
    site: str
    """Site id."""
    devices: int
    """How many devices in all."""
    state_dir: Path
    """Boot counters (one directory per device)."""
    speed: float = 1.0
    """Simulated seconds per real second."""
    duration_s: float | None = None
    """Simulated seconds to run (None: until stopped)."""
    window_s: float = 10.0
    """Simulated seconds per metrics window."""
    username: str = ""
    """MQTT user name."""
    password_file: str | None = None
    """File holding the MQTT password."""
    check: bool = False
    """Validate each payload against its JSON Schema before sending (slower)."""


class ReplayDesk:
    """One metrics-only device's behaviour (calls, cues, windows) in simulated time."""

    def __init__(self, sim: SimDevice, rng: np.random.Generator, window_s: float) -> None:
        self.sim = sim
        self.rng = rng
        self.window_s = window_s
        self.baseline = float(rng.uniform(4.2, 5.4))
        self.cue: str | None = None
        self.call_end = 0.0
        self.next_call = float(rng.uniform(0, 60))
        self.next_health = float(rng.uniform(0, HEALTH_S))

    def window(self, t: float, ts: float) -> list[tuple[str, dict[str, Any]]]:
        """The messages due at the end of the window ending at simulated time ``t``."""
        out: list[tuple[str, dict[str, Any]]] = []
        if self.sim.call is None and t >= self.next_call:
            self.call_end = t + float(self.rng.uniform(90, 300))
            out.append(("events", self.sim.start_call(ts)))
        cues: dict[str, int] = {}
        rate = self.baseline * float(self.rng.normal(1.0, 0.05))
        if self.cue is not None:
            out.append(("events", self.sim.cue(ts, self.cue, on=False)))
            self.cue = None
        elif self.sim.call is not None and self.rng.random() < 0.08:
            self.cue = str(CUES[int(self.rng.integers(len(CUES)))])
            cues[self.cue] = 1
            if self.cue == "pace":
                rate = self.baseline * 1.35
            out.append(("events", self.sim.cue(ts, self.cue)))
        if self.sim.call is not None:
            out.append(("metrics", self.sim.metrics(ts, rate, self.baseline, cues=cues)))
            if t >= self.call_end:
                out.append(("events", self.sim.end_call(ts, t - self.call_end + 120.0)))
                self.next_call = t + float(self.rng.uniform(20, 90))
        if t >= self.next_health:
            self.next_health = t + HEALTH_S
            out.append(("health", self.sim.health(ts)))
        return out


def _password(opts: ReplayOptions) -> str | None:
    if not opts.password_file:
        return None
    return Path(opts.password_file).read_text(encoding="utf-8").strip()


def replay_devices(opts: ReplayOptions, indices: range, stop: threading.Event) -> int:
    """Run devices ``indices`` on one connection pool in this thread; return messages sent."""
    from edge.simulate.client_pool import ClientPool, raise_fd_limit
    from edge.telemetry.settings import parse_broker_url

    addr = parse_broker_url(opts.mqtt)
    raise_fd_limit(len(indices) + 256)
    pool = ClientPool(addr.host, addr.port, opts.username, _password(opts))
    desks: list[ReplayDesk] = []
    for i in indices:
        device = f"sim-{i:05d}"
        boot = next_boot(opts.state_dir / device)
        sim = SimDevice(opts.site, device, agent=f"agent-{i:05d}", boot=boot, check=opts.check)
        will = sim.status(time.time(), online=False, reason="lost")
        pool.add(f"poise-{opts.site}-{device}", (topic_of(will), encode(will)))
        desks.append(ReplayDesk(sim, np.random.default_rng(i), opts.window_s))
        pool.poll(0)
    pool.wait(lambda: len(pool.connected) >= len(desks), 60.0)
    sent = 0
    for k, d in enumerate(desks):
        p = d.sim.status(time.time())
        pool.clients[k].publish(topic_of(p), encode(p), qos=1, retain=True)
        sent += 1
    t0 = time.monotonic()
    # (due simulated time, desk index): each desk's first window ends at a random phase
    due = [(float(d.rng.uniform(0, opts.window_s)), k) for k, d in enumerate(desks)]
    heapq.heapify(due)
    while not stop.is_set():
        now = (time.monotonic() - t0) * opts.speed
        if opts.duration_s is not None and now >= opts.duration_s:
            break
        while due and due[0][0] <= now:
            t, k = heapq.heappop(due)
            for _kind, payload in desks[k].window(t, time.time()):
                pool.clients[k].publish(topic_of(payload), encode(payload), qos=1)
                sent += 1
            heapq.heappush(due, (t + opts.window_s, k))
        wait = (due[0][0] - now) / opts.speed if due else 0.05
        pool.poll(max(0.0, min(0.05, wait)))
    for k, d in enumerate(desks):
        p = d.sim.status(time.time(), online=False, reason="shutdown")
        pool.clients[k].publish(topic_of(p), encode(p), qos=1, retain=True)
        sent += 1
    pool.close(drain_s=30.0, expected=sent)
    if pool.acked < sent:
        log.warning("%d of %d messages not acknowledged at stop", sent - pool.acked, sent)
    return sent


def _worker(opts: ReplayOptions, start: int, stop_at: int, stop_mp: Any, out: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=_bridge, args=(stop_mp, stop), daemon=True).start()
    out.put(replay_devices(opts, range(start, stop_at), stop))


def run_replay(opts: ReplayOptions, processes: int, stop: threading.Event) -> int:
    """Split the devices over ``processes`` workers; return the messages they sent."""
    if processes <= 1:
        return replay_devices(opts, range(1, opts.devices + 1), stop)
    ctx = mp.get_context("spawn")
    stop_mp = ctx.Event()
    out = ctx.Queue()
    bounds = np.linspace(1, opts.devices + 1, processes + 1).astype(int)
    workers = [
        ctx.Process(target=_worker, args=(opts, int(a), int(b), stop_mp, out))
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    for w in workers:
        w.start()
    total, pending = 0, len(workers)
    while pending:
        if stop.is_set():
            stop_mp.set()
        try:
            total += out.get(timeout=0.2)
            pending -= 1
        except Exception:  # queue.Empty
            if not any(w.is_alive() for w in workers) and out.empty():
                break
    for w in workers:
        w.join(60)
        if w.is_alive():
            w.terminate()
            w.join(5)
    return total


def _bridge(stop_mp: Any, stop: threading.Event) -> None:
    """Set the worker's ``stop`` when the parent sets ``stop_mp``."""
    stop_mp.wait()
    stop.set()
