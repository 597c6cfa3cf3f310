"""Collector ingest: bare subscriber vs durable ingest into SQLite and PostgreSQL, same run.

Many simulated devices in several publisher processes send valid contract payloads (QoS 1,
``ts`` = wall clock at publish) through one real Mosquitto. Each phase has one consumer on the
shared subscription: a **bare** paho subscriber (auto-ack, counts only), then the **collector**
(validation, group commit, ack after COMMIT) into SQLite (WAL, synchronous=FULL) and into
PostgreSQL (fsync on). Reported per phase: messages/s (first arrival to last commit), p50/p99
publish->committed latency (publish->received for bare), and where the time goes (writer time
in validation vs commit, CPU seconds of broker, consumer and publishers).

Targets (issue #9): durable >= 0.8 x bare and >= 20,000 msg/s on the 2-core machine.

Usage: ``.venv/bin/python -m bench.ingest [--devices 200] [--messages 60000] [--publishers 3]
[--collectors 1]`` (``--collectors N`` runs N collector processes in one shared-subscription
group, how the collector scales out).
Writes bench/results/ingest.json. Not part of the test suite (several minutes).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.results import write_results


def cpu_s(pid: int) -> float:
    """utime + stime of a process, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


# -- publishers ------------------------------------------------------------------------------------
def publisher(
    port: int, devices: list[str], per_device: int, go: Any, out: Any, rate: float = 0.0
) -> None:
    """Publish ``per_device`` windows for each device, as fast as possible or at ``rate``/s."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from edge.telemetry.envelope import envelope
    from edge.telemetry.schemas import encode
    from edge.telemetry.topics import DeviceTopics
    from tests.support.telemetry import metrics_body

    acked = [0]
    done = threading.Event()
    total = len(devices) * per_device

    def on_publish(*_: Any) -> None:
        acked[0] += 1
        if acked[0] >= total:
            done.set()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.on_publish = on_publish
    c.connect("127.0.0.1", port, keepalive=60)
    c.loop_start()
    topics = [DeviceTopics("bench", d).metrics for d in devices]
    bodies = [metrics_body(i) for i in range(16)]
    go.wait()
    t0 = time.time()
    sent = 0
    for seq in range(per_device):
        body = bodies[seq % 16]
        if rate > 0:
            ahead = t0 + sent / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
        sent += len(devices)
        for d, topic in zip(devices, topics, strict=True):
            payload = envelope("metrics", "bench", d, 1, seq, time.time(), body)
            c.publish(topic, encode(payload), qos=1)
    done.wait(600)
    out.put({"pid": os.getpid(), "published": total, "seconds": time.time() - t0})
    c.disconnect()
    c.loop_stop()


# -- consumers -------------------------------------------------------------------------------------
def bare_consumer(port: int, expected: int, ready: Any, out: Any) -> None:
    import json

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from edge.telemetry.envelope import parse_ts
    from edge.telemetry.topics import shared_subscription

    n = [0]
    first = [0.0]
    last = [0.0]
    lat: list[float] = []
    done = threading.Event()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        now = time.time()
        if n[0] == 0:
            first[0] = now
        n[0] += 1
        last[0] = now
        if n[0] % 10 == 0:
            lat.append(now - parse_ts(json.loads(msg.payload)["ts"]))
        if n[0] >= expected:
            done.set()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, client_id="bench-bare")
    c.on_message = on_message
    c.on_subscribe = lambda *a: ready.set()
    c.connect("127.0.0.1", port, keepalive=60)
    c.subscribe(shared_subscription("bench-bare"), qos=1)
    c.loop_start()
    done.wait(900)
    out.put(
        {
            "received": n[0],
            "rate": n[0] / max(1e-9, last[0] - first[0]),
            "lat_p50": pct(lat, 50),
            "lat_p99": pct(lat, 99),
            "cpu_s": cpu_s(os.getpid()),
        }
    )
    c.disconnect()
    c.loop_stop()


def collector_consumer(
    port: int, db_url: str, expected: int, ready: Any, out: Any, counter: Any, index: int
) -> None:
    from broker.collector import batch as batch_mod
    from broker.collector.service import Collector
    from broker.collector.settings import CollectorSettings, HttpSettings, MqttSettings
    from broker.storage import open_store

    store = open_store(db_url)
    lat: list[float] = []
    marks = {"first": 0.0, "last": 0.0, "stored": 0, "validate_s": 0.0, "commit_s": 0.0}
    batches: list[int] = []
    done = threading.Event()
    inner_write = store.write
    inner_judge = batch_mod.BatchWriter.judge

    def write(batch: Any) -> int:
        t0 = time.perf_counter()
        n = inner_write(batch)
        now = time.time()
        marks["commit_s"] += time.perf_counter() - t0
        if not marks["first"]:
            marks["first"] = min(m.received for m in batch)
        marks["last"] = now
        marks["stored"] += n
        batches.append(len(batch))
        lat.extend(now - m.ts for m in batch[::5])
        with counter.get_lock():
            counter.value += n
            if counter.value >= expected:
                done.set()
        return n

    def judge(self: Any, items: Any) -> Any:
        t0 = time.perf_counter()
        r = inner_judge(self, items)
        marks["validate_s"] += time.perf_counter() - t0
        return r

    store.write = write  # type: ignore[method-assign]
    batch_mod.BatchWriter.judge = judge  # type: ignore[method-assign]
    s = CollectorSettings()
    s = replace(
        s,
        mqtt=MqttSettings(url=f"mqtt://127.0.0.1:{port}", client_id=f"bench-collector-{index}"),
        http=HttpSettings(""),
    )
    c = Collector(s, store)
    c.start()
    c.mqtt.connected.wait(30)
    time.sleep(0.5)  # SUBACK
    ready.set()
    while not done.wait(0.2):
        if counter.value >= expected:
            break
    span = max(1e-9, marks["last"] - marks["first"])
    out.put(
        {
            "received": marks["stored"],
            "rate": marks["stored"] / span,
            "lat_p50": pct(lat, 50),
            "lat_p99": pct(lat, 99),
            "cpu_s": cpu_s(os.getpid()),
            "batches": len(batches),
            "mean_batch": statistics.fmean(batches) if batches else 0,
            "validate_s": marks["validate_s"],
            "commit_s": marks["commit_s"],
            "span_s": span,
            "first": marks["first"],
            "last": marks["last"],
            "lat": lat,
        }
    )
    c.stop()
    store.close()


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several collectors of one group -> one row (rate over the union of their spans)."""
    lat = [x for p in parts for x in p["lat"]]
    first = min(p["first"] for p in parts if p["first"])
    last = max(p["last"] for p in parts)
    total = sum(p["received"] for p in parts)
    return {
        "received": total,
        "rate": total / max(1e-9, last - first),
        "lat_p50": pct(lat, 50),
        "lat_p99": pct(lat, 99),
        "cpu_s": sum(p["cpu_s"] for p in parts),
        "batches": sum(p["batches"] for p in parts),
        "mean_batch": statistics.fmean([p["mean_batch"] for p in parts]),
        "validate_s": sum(p["validate_s"] for p in parts),
        "commit_s": sum(p["commit_s"] for p in parts),
        "per_collector": [p["received"] for p in parts],
    }


def core_costs(db_urls: dict[str, str], n: int = 20_000) -> dict[str, float]:
    """CPU microseconds per message of the collector's own work, no broker: validation, and
    the batched commit (1,000 per transaction) per backend."""
    from broker.collector.validate import validate
    from broker.storage import Message, open_store
    from edge.telemetry.envelope import envelope
    from edge.telemetry.schemas import encode
    from tests.support.telemetry import metrics_body

    raw = [
        (
            "poise/v1/bench/core/metrics",
            encode(envelope("metrics", "bench", "core", 1, i, time.time(), metrics_body(i))),
        )
        for i in range(n)
    ]
    t0 = time.process_time()
    msgs = [validate(t, p, time.time()) for t, p in raw]
    out = {"validate_us": (time.process_time() - t0) / n * 1e6}
    good = [m for m in msgs if isinstance(m, Message)]
    for name, url in db_urls.items():
        st = open_store(url)
        t0, w0 = time.process_time(), time.perf_counter()
        for i in range(0, n, 1000):
            st.write(good[i : i + 1000])
        out[f"{name}_commit_cpu_us"] = (time.process_time() - t0) / n * 1e6
        out[f"{name}_commit_wall_us"] = (time.perf_counter() - w0) / n * 1e6
        st.close()
    return out


# -- one phase --------------------------------------------------------------------------
def phase(name: str, port: int, broker_pid: int, args: argparse.Namespace, db_url: str | None):
    ctx = mp.get_context("fork")
    go = ctx.Event()
    out, pub_out = ctx.Queue(), ctx.Queue()
    per_device = max(1, args.messages // args.devices)
    expected = per_device * args.devices
    counter = ctx.Value("q", 0)
    n_cons = 1 if db_url is None else args.collectors
    readies = [ctx.Event() for _ in range(n_cons)]
    if db_url is None:
        conss = [ctx.Process(target=bare_consumer, args=(port, expected, readies[0], out))]
    else:
        conss = [
            ctx.Process(
                target=collector_consumer,
                args=(port, db_url, expected, readies[i], out, counter, i),
            )
            for i in range(n_cons)
        ]
    for cons in conss:
        cons.start()
    for r in readies:
        r.wait(60)
    devices = [f"d{i:04d}-{name}" for i in range(args.devices)]
    groups = [devices[i :: args.publishers] for i in range(args.publishers)]
    rate = args.rate / args.publishers
    pubs = [
        ctx.Process(target=publisher, args=(port, g, per_device, go, pub_out, rate)) for g in groups
    ]
    for p in pubs:
        p.start()
    b0 = cpu_s(broker_pid)
    time.sleep(1.0)
    go.set()
    pub_res = [pub_out.get(timeout=900) for _ in pubs]
    parts = [out.get(timeout=900) for _ in conss]
    res = parts[0] if len(parts) == 1 else merge(parts)
    res.pop("lat", None)
    res["consumers"] = len(parts)
    res["broker_cpu_s"] = cpu_s(broker_pid) - b0
    res["publish_rate"] = expected / max(r["seconds"] for r in pub_res)
    for p in [*pubs, *conss]:
        p.join(60)
    res["expected"] = expected
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--messages", type=int, default=60_000, help="per phase")
    ap.add_argument("--publishers", type=int, default=3, help="publisher processes")
    ap.add_argument("--collectors", type=int, default=1, help="collector processes (one group)")
    ap.add_argument(
        "--rate", type=float, default=0.0, help="offered msg/s in total (0: as fast as possible)"
    )
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--tag", default="", help="results file bench/results/ingest[_TAG].json")
    args = ap.parse_args(argv)

    from tests.support.mosquitto import Broker
    from tests.support.postgres import PostgresServer

    tmp = Path(tempfile.mkdtemp(prefix="poise-bench-ingest-"))
    broker = Broker(
        tmp / "mosquitto",
        extra=["max_inflight_messages 1000", "max_queued_messages 1000000", "log_type none"],
    ).start()
    assert broker.proc is not None
    results: dict[str, Any] = {"config": vars(args), "cores": os.cpu_count()}
    pg = None
    try:
        if not args.no_postgres:
            pg = PostgresServer(fsync=True).start()
        core_dbs = {"sqlite": f"sqlite://{tmp / 'core.db'}"}
        if pg is not None:
            core_dbs["postgresql"] = pg.create_database("core")
        results["core"] = core_costs(core_dbs)
        results["bare"] = phase("bare", broker.port, broker.proc.pid, args, None)
        results["sqlite"] = phase(
            "sqlite", broker.port, broker.proc.pid, args, f"sqlite://{tmp / 'collector.db'}"
        )
        if pg is not None:
            results["postgresql"] = phase(
                "postgresql", broker.port, broker.proc.pid, args, pg.create_database("bench")
            )
    finally:
        broker.stop()
        if pg is not None:
            pg.stop()
    bare = results["bare"]["rate"]
    print(
        f"{'phase':<11} {'msg/s':>9} {'x bare':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'batch':>6} {'valid s':>8} {'commit s':>9} {'cons cpu':>9} {'broker cpu':>10}"
    )
    for k in ("bare", "sqlite", "postgresql"):
        r = results.get(k)
        if not r:
            continue
        r["x_bare"] = r["rate"] / bare if bare else None

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{1000 * v:.1f}"

        print(
            f"{k:<11} {r['rate']:>9.0f} {r['x_bare']:>7.2f} {ms(r['lat_p50']):>8} "
            f"{ms(r['lat_p99']):>8} {r.get('mean_batch', 0):>6.0f} "
            f"{r.get('validate_s', 0):>8.1f} {r.get('commit_s', 0):>9.1f} "
            f"{r['cpu_s']:>9.1f} {r['broker_cpu_s']:>10.1f}"
        )
    print(f"publishers offered {results['bare']['publish_rate']:.0f} msg/s in the bare phase")
    core = results["core"]
    print(
        "collector CPU per message without the broker: "
        + ", ".join(f"{k} {v:.0f} us" for k, v in core.items())
    )
    results["loadavg"] = os.getloadavg()
    print(f"load average during the run: {results['loadavg']}")
    write_results(f"ingest_{args.tag}" if args.tag else "ingest", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
