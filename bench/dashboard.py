"""bench.dashboard: 5,000 simulated devices every 10 s through real Mosquitto into the collector
(which serves the dashboard); a supervisor's 500-desk floor in headless Chromium.

Measures, in one run: p50/p95/max from a device publishing a cue to the tile changing in the
browser (MutationObserver timestamps vs the publisher's clock: same machine), the floor page load
(navigation to 500 tiles drawn), and the collector process's CPU and RSS while it ingests.

    python -m bench.dashboard [--devices 5000] [--floor 500] [--period 10] [--duration 60]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import write_results
from bench.sim_devices import MqttDevices, SimDevice

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 123"
FLOOR_SITE = "s00"
CUES = ("pace", "overtalk", "monologue")
OBSERVER_JS = """() => {
  window.__seen = [];
  const grid = document.getElementById('tiles');
  new MutationObserver((ms) => { const t = Date.now();
    for (const m of ms) for (const n of m.addedNodes)
      if (n.dataset && n.dataset.device) window.__seen.push([n.dataset.device, n.dataset.cue, t]);
  }).observe(grid, { childList: true });
}"""


def _ids(n_devices: int, floor: int) -> list[tuple[str, str]]:
    """(site, device): the first ``floor`` devices are the supervisor's site."""
    out = [(FLOOR_SITE, f"d{i:05d}") for i in range(floor)]
    per_site = max(1, floor)
    for i in range(floor, n_devices):
        out.append((f"s{1 + (i - floor) // per_site:02d}", f"d{i:05d}"))
    return out


def generator(
    idx: int,
    devices: list[tuple[str, str]],
    port: int,
    period: float,
    until: float,
    start_at: float,
    probes: Any,
    probe_rate: float,
) -> None:
    """One load process: every device publishes a metrics window every ``period`` s, health
    every 6 periods; floor devices of this process toggle cues (the latency probes)."""
    rnd = random.Random(idx)
    pub = MqttDevices("127.0.0.1", port, f"bench-gen-{idx}")
    sims = [SimDevice(s, d, agent=f"a-{d}", check=False) for s, d in devices]
    for sim in sims:
        sim.sent = _NoList()
        pub.send("status", sim.status(time.time()))
        if rnd.random() < 0.7:
            pub.send("events", sim.start_call(time.time()))
    floor = [s for s in sims if s.site == FLOOR_SITE]
    cue_on: dict[str, str | None] = {s.device: None for s in floor}
    n, tick = len(sims), 0
    next_probe = start_at
    while time.time() < until:
        t_tick = time.time()
        for i, sim in enumerate(sims):
            slot = t_tick + period * i / n
            now = time.time()
            while now >= next_probe and floor and now >= start_at:
                s = rnd.choice(floor)
                cur = cue_on[s.device]
                new = None if cur else rnd.choice(CUES)
                t_pub = time.time()
                pub.send("events", s.cue(t_pub, cur or new or "pace", on=new is not None))
                cue_on[s.device] = new
                probes.put((s.device, new or "", t_pub))
                next_probe += rnd.expovariate(probe_rate)
            if slot > now:
                time.sleep(slot - now)
            rate = 4.5 * (0.8 + 0.4 * rnd.random())
            pub.send("metrics", sim.metrics(time.time(), rate=rate, baseline=4.5))
            if tick % 6 == i % 6:
                pub.send("health", sim.health(time.time()))
        tick += 1
    pub.close()


class _NoList(list):
    """Simulated devices in the bench keep no history."""

    def append(self, _: Any) -> None:
        return None


def _proc_stat(pid: int) -> tuple[float, int, int]:
    """(cpu seconds user+system, RSS bytes, peak RSS bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    status = Path(f"/proc/{pid}/status").read_text()

    def kb(key: str) -> int:
        line = next(line for line in status.splitlines() if line.startswith(key))
        return int(line.split()[1]) * 1024

    return cpu, kb("VmRSS:"), kb("VmHWM:")


def _scrape(url: str) -> dict[str, float]:
    """The collector's Prometheus samples (name{labels} -> value)."""
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def _hist_quantile(m0: dict[str, float], m1: dict[str, float], name: str, q: float) -> float | None:
    """Upper bucket bound holding quantile ``q`` of a histogram's increase between scrapes."""
    buckets: list[tuple[float, float]] = []
    for k, v in m1.items():
        if k.startswith(f"{name}_bucket{{"):
            bound = k.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), v - m0.get(k, 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    for upper, n in buckets:
        if n >= q * buckets[-1][1]:
            return upper
    return None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.dashboard", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--floor", type=int, default=500, help="desks on the supervisor's floor")
    ap.add_argument("--period", type=float, default=10.0, help="seconds between windows")
    ap.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=20.0, help="seconds before measuring")
    ap.add_argument("--generators", type=int, default=2, help="bulk load processes")
    ap.add_argument("--probe-rate", type=float, default=2.0, help="cue toggles per second")
    ap.add_argument("--loads", type=int, default=5, help="floor page loads to time")
    ap.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="collector's SQLite synchronous mode (FULL: fsync every commit)",
    )
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from broker.accounts.store import AccountStore
    from broker.storage import open_store
    from tests.dashboard.live import launch_chromium
    from tests.support.mosquitto import Broker
    from tests.support.ports import free_port, wait_listening

    tmp = Path(tempfile.mkdtemp(prefix="poise-bench-dashboard-"))
    broker = Broker(tmp / "mosquitto", persistence=False).start()
    ids = _ids(args.devices, args.floor)
    desks = tmp / "desks.toml"
    desks.write_text(
        "".join(
            f'[desks.{d}]\nsite = "{s}"\nname = "Desk {d[1:]}"\nteam = "t{int(d[1:]) // 50:03d}"\n'
            for s, d in ids
        ),
        encoding="utf-8",
    )
    accounts = AccountStore(tmp / "accounts.db", time.time)
    accounts.add("super", "supervisor", PASSWORD, sites=[FLOOR_SITE])
    accounts.close()
    http = free_port()
    conf = tmp / "collector.toml"
    conf.write_text(
        f'[mqtt]\nclient_id = "bench-collector"\n'
        f'[database]\nsqlite_synchronous = "{args.synchronous}"\n'
        f'[dashboard]\naccounts_db = "{tmp / "accounts.db"}"\ndesks_file = "{desks}"\n',
        encoding="utf-8",
    )
    db_url = f"sqlite://{tmp / 'collector.db'}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    collector = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge",
            "collector",
            "run",
            "--config",
            str(conf),
            "--mqtt",
            broker.url,
            "--db",
            db_url,
            "--http",
            f"127.0.0.1:{http}",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    procs: list[mp.Process] = []
    result: dict[str, Any] = {}
    try:
        wait_listening(http, 30)
        t_start = time.time() + 2
        until = t_start + args.warmup + args.duration + 5
        probes: Any = mp.Queue()
        # the floor's desks (and the cue probes) get a process and connection of their own, as
        # real desks do; the other devices share the bulk load processes
        rest = ids[args.floor :]
        chunks = [ids[: args.floor]] + [rest[i :: args.generators] for i in range(args.generators)]
        for i, chunk in enumerate(chunks):
            p = mp.Process(
                target=generator,
                args=(
                    i,
                    chunk,
                    broker.port,
                    args.period,
                    until,
                    t_start + args.warmup,
                    probes,
                    args.probe_rate,
                ),
            )
            p.start()
            procs.append(p)
        url = f"http://127.0.0.1:{http}"
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{url}/login")
            page.fill("#username", "super")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-loaded]", timeout=30000)
            time.sleep(max(0.0, t_start + args.warmup - time.time()))
            cpu0, _, _ = _proc_stat(collector.pid)
            m0 = _scrape(url)
            w0 = time.time()
            loads = []
            for _ in range(args.loads):
                t0 = time.time()
                page.goto(f"{url}/floor")
                page.wait_for_selector("body[data-loaded]", timeout=30000)
                loads.append(float(page.get_attribute("body", "data-loaded")) / 1000 - t0)
            tiles = page.locator(".tile").count()
            page.wait_for_selector("#live[data-state=live]")
            page.evaluate(OBSERVER_JS)
            t_obs = time.time()
            rss_samples = []
            while time.time() < w0 + args.duration:
                rss_samples.append(_proc_stat(collector.pid)[1])
                time.sleep(1.0)
            cpu1, rss, hwm = _proc_stat(collector.pid)
            m1 = _scrape(url)
            w1 = time.time()
            time.sleep(1.5)  # let the last probes arrive before reading the page
            seen = page.evaluate("window.__seen")
            page.screenshot(path=str(tmp / "floor-500.png"))
            browser.close()
        sent = []
        while not probes.empty():
            sent.append(probes.get())
        lat = []
        missed = 0
        for device, cue, t_pub in sent:
            if t_pub < t_obs or t_pub > w1:
                continue
            hit = next(
                (t for d, c, t in seen if d == device and c == cue and t / 1000 >= t_pub - 0.005),
                None,
            )
            if hit is None:
                missed += 1
            else:
                lat.append(hit / 1000 - t_pub)
        for p in procs:
            p.join(timeout=args.duration + 30)
        st = open_store(db_url)
        counts = st.counts()
        st.close()
        result = {
            "devices": args.devices,
            "floor_desks": args.floor,
            "period_s": args.period,
            "offered_msgs_per_s": args.devices / args.period * (1 + 1 / 6),
            "tiles_drawn": tiles,
            "latency_probes": len(lat),
            "latency_missed": missed,
            "latency_p50_s": _pct(lat, 0.5),
            "latency_p95_s": _pct(lat, 0.95),
            "latency_max_s": max(lat) if lat else None,
            "floor_load_s": loads,
            "floor_load_max_s": max(loads),
            "floor_load_p50_s": statistics.median(loads),
            "collector_cpu_pct": 100 * (cpu1 - cpu0) / (w1 - w0),
            "collector_rss_mb": rss / 2**20,
            "collector_peak_rss_mb": hwm / 2**20,
            "collector_rss_mean_mb": statistics.fmean(rss_samples) / 2**20 if rss_samples else None,
            "rows_stored": counts.get("rows"),
            "sqlite_synchronous": args.synchronous,
            "commit_mean_s": (
                m1.get("poise_collector_commit_seconds_sum", 0)
                - m0.get("poise_collector_commit_seconds_sum", 0)
            )
            / max(
                1.0,
                m1.get("poise_collector_commit_seconds_count", 0)
                - m0.get("poise_collector_commit_seconds_count", 0),
            ),
            "commit_p95_le_s": _hist_quantile(m0, m1, "poise_collector_commit_seconds", 0.95),
            "publish_to_commit_p95_le_s": _hist_quantile(
                m0, m1, "poise_collector_publish_to_commit_seconds", 0.95
            ),
            "load_avg_1min": os.getloadavg()[0],
            "screenshot": str(tmp / "floor-500.png"),
        }
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        collector.terminate()
        try:
            out, _ = collector.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            collector.kill()
            out, _ = collector.communicate()
        broker.stop()
        if collector.returncode not in (0, -15) or not result:
            print(out.decode(errors="replace")[-3000:], file=sys.stderr)
    targets = {"latency_p95_s": 1.0, "floor_load_max_s": 1.0}
    print(f"{'measure':<28} {'value':>12}  target")
    for k, v in result.items():
        if isinstance(v, float | int) and not isinstance(v, bool):
            t = targets.get(k)
            print(f"{k:<28} {v:>12.3f}  {'<= ' + str(t) if t else ''}")
    result["targets_met"] = all(
        result.get(k) is not None and result[k] <= t for k, t in targets.items()
    )
    print(f"targets met: {result['targets_met']}")
    write_results("dashboard", result)
    print(json.dumps({k: result[k] for k in ("latency_p95_s", "floor_load_max_s")}))
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
