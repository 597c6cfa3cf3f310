"""``poise demo``'s main loop: start the system, show the floor, stop cleanly, report."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from broker.demo.client import DashboardClient
from broker.demo.system import DemoOptions, DemoSystem, write_report
from broker.demo.view import CLEAR, FloorWatch, render

log = logging.getLogger(__name__)

SETTLE_S = 15.0
"""After the desks stop: how long the collector may take to commit what they drained."""


def run_demo(
    options: DemoOptions,
    headless: bool = False,
    report: Path | None = None,
    keep_db: Path | None = None,
    refresh_s: float = 1.0,
) -> int:
    """Run until Ctrl-C/SIGTERM (or the desks' ``duration_s``); 0 when everything worked."""
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    system = DemoSystem(options)
    watch = FloorWatch()
    result: dict[str, Any] = {"options": options.__dict__}
    rc = 0
    try:
        system.start()
        print(_banner(system), flush=True)
        client = DashboardClient(system.url.rstrip("/"))
        client.login("demo", system.logins["demo"])
        started = time.monotonic()
        while not stop.is_set():
            failed = system.failed()
            if failed:
                print(
                    f"poise: error: {failed} stopped:\n{system.log_tail(failed)}", file=sys.stderr
                )
                rc = 1
                break
            try:
                watch.update(client.floor())
            except (OSError, RuntimeError) as exc:
                log.warning("floor: %s", exc)
            if not headless:
                up = time.monotonic() - started
                head = f"Poise demo - {system.url} - up {up:.0f} s - Ctrl-C stops everything"
                print(CLEAR + render(watch, head), flush=True)
            if not system.desks_running():
                break
            stop.wait(refresh_s)
        system.stop_desks()
        result.update(_settle(system, client, watch))
        if keep_db is not None:
            _copy_db(system, keep_db)
    except KeyboardInterrupt:
        pass
    finally:
        result["cues_on_floor"] = {d: dict(c) for d, c in watch.seen.items()}
        result["stopped"] = system.stop()
        for s, h in old.items():
            signal.signal(s, h)
        if report is not None:
            write_report(report, result)
    if not headless:
        print(render(watch, "Poise demo stopped; what the floor showed:"))
    print(f"demo stopped; {system.dir} removed", flush=True)
    return rc


def _banner(system: DemoSystem) -> str:
    o = system.options
    return (
        f"Poise demo: {o.devices} desks running the device loop (speed {o.speed:g}x)\n"
        f"  dashboard:  {system.url}\n"
        f"  log in as:  demo / {system.logins['demo']} (admin)   "
        f"floor / {system.logins['floor']} (supervisor)\n"
        f"  broker:     mqtt://127.0.0.1:{system.mqtt_port} (mosquitto)\n"
        f"  everything: {system.dir} (removed when the demo stops)"
    )


def _settle(system: DemoSystem, client: DashboardClient, watch: FloorWatch) -> dict[str, Any]:
    """Wait until the database stops growing (the desks' last windows committed); summarise."""
    last = -1
    end = time.monotonic() + SETTLE_S
    summary: dict[str, Any] = {}
    while time.monotonic() < end:
        summary = system.summary()
        rows = summary["counts"]["rows"]
        if rows == last and not summary["gaps"]:
            break
        last = rows
        time.sleep(1.0)
    try:
        watch.update(client.floor())
    except (OSError, RuntimeError) as exc:
        log.warning("floor: %s", exc)
    return {"database": summary, "floor_tiles": watch.tiles}


def _copy_db(system: DemoSystem, dest: Path) -> None:
    import sqlite3

    src = sqlite3.connect(system.dir / "collector.db")
    try:
        out = sqlite3.connect(dest)
        with out:
            src.backup(out)
        out.close()
    finally:
        src.close()
