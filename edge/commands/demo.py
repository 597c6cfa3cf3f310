"""``poise demo``: broker, collector, dashboard and simulated desks here (docs/demo.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from edge.commands._common import add_setting_overrides
from edge.errors import ConfigError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole system on this machine: desks, broker, collector and dashboard",
        description=(
            "Start a local Mosquitto, the collector serving the dashboard and simulated desks "
            "(each running the real device loop on generated calls), print the dashboard URL "
            "and demo logins, and show the desks and their cues live. Ctrl-C stops everything "
            "and removes the demo's temporary directory."
        ),
    )
    p.add_argument("--devices", type=int, default=12, metavar="N", help="desks (12)")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="time factor (1)")
    p.add_argument("--duration", type=float, metavar="S", help="simulated seconds, then stop")
    p.add_argument("--port", type=int, default=0, help="dashboard port (default: a free one)")
    p.add_argument("--call-s", type=float, default=150.0, help="typical call length (150 s)")
    p.add_argument("--gap-s", type=float, default=75.0, help="silence between calls (75 s)")
    p.add_argument("--corpus", metavar="emodb:DIR|ravdess:DIR", help="stressed speech corpus")
    p.add_argument("--headless", action="store_true", help="no live table (tests, CI)")
    p.add_argument("--report", metavar="FILE.json", help="write what reached the database/floor")
    p.add_argument("--keep-db", metavar="FILE", help="copy the collector database here at the end")
    add_setting_overrides(p, "a device setting for every desk (repeatable)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from broker.demo.run import run_demo
    from broker.demo.system import DemoOptions

    if not 1 <= args.devices <= 64:
        raise ConfigError("--devices must be 1-64 (poise simulate --metrics-only for more)")
    if args.speed <= 0 or (args.duration is not None and args.duration <= 0):
        raise ConfigError("--speed and --duration must be above 0")
    if not 0 <= args.port < 65536:
        raise ConfigError("--port must be 0-65535")
    opts = DemoOptions(
        devices=args.devices,
        speed=args.speed,
        duration_s=args.duration,
        http_port=args.port,
        call_s=args.call_s,
        gap_s=args.gap_s,
        corpus=args.corpus,
        overrides=tuple(args.overrides),
    )
    return run_demo(
        opts,
        headless=args.headless,
        report=Path(args.report) if args.report else None,
        keep_db=Path(args.keep_db) if args.keep_db else None,
    )
