"""``poise simulate``: simulated desks publishing through a real broker (docs/demo.md).

Full mode runs the real device loop per desk (generated calls -> Pipeline -> Runner -> cue and
telemetry sinks, one state directory per desk); ``--metrics-only`` replays contract payloads
cheaply, thousands of devices from a few processes, for the ingest and dashboard benchmarks.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from edge.commands._common import add_setting_overrides, config_errors
from edge.errors import ConfigError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulated desks: the real device loop on generated calls, or metrics-only replay",
        description=(
            "Simulated desks publishing telemetry to a broker. By default each desk runs the "
            "real device loop (pipeline, cue sink, MQTT publisher with its outbox) on generated "
            "two-channel calls (espeak-ng). --metrics-only replays contract payloads (status "
            "birth and will, metrics windows, events, health) for scale tests."
        ),
    )
    p.add_argument("--devices", type=int, default=12, metavar="N", help="desks (12)")
    p.add_argument("--mqtt", required=True, metavar="URL", help="broker, mqtt://host:port")
    p.add_argument("--username", default="", help="MQTT user name")
    p.add_argument("--password-file", metavar="FILE", help="file holding the MQTT password")
    p.add_argument("--site", default="demo", help="site id of every desk (demo)")
    p.add_argument(
        "--metrics-only", action="store_true", help="replay contract payloads (no audio)"
    )
    p.add_argument(
        "--duration", type=float, metavar="S", help="simulated seconds to run (default: forever)"
    )
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--realtime", action="store_true", help="simulated time runs at wall-clock speed (default)"
    )
    pace.add_argument(
        "--speed", type=float, default=1.0, metavar="X", help="simulated seconds per real second"
    )
    p.add_argument(
        "--processes", type=int, metavar="P", help="worker processes (default: up to the CPUs)"
    )
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        help="desks' state (full: one directory per desk; metrics-only: boot counters); "
        "default ./poise-simulate",
    )
    p.add_argument(
        "--corpus",
        metavar="emodb:DIR|ravdess:DIR",
        help="full mode: stressed stretches from this corpus (default: espeak-ng only)",
    )
    p.add_argument("--call-s", type=float, default=150.0, help="typical call length (150 s)")
    p.add_argument("--gap-s", type=float, default=75.0, help="silence between calls (75 s)")
    p.add_argument(
        "--window-s", type=float, default=10.0, help="metrics-only: seconds per metrics window"
    )
    add_setting_overrides(p, "full mode: a device setting for every desk (repeatable)")
    p.set_defaults(func=_run)


def _check(args: argparse.Namespace) -> None:
    from edge.telemetry.settings import parse_broker_url
    from edge.telemetry.topics import validate_id

    if args.devices < 1:
        raise ConfigError("--devices must be at least 1")
    if args.speed <= 0:
        raise ConfigError("--speed must be above 0")
    if args.duration is not None and args.duration <= 0:
        raise ConfigError("--duration must be above 0")
    if args.processes is not None and args.processes < 1:
        raise ConfigError("--processes must be at least 1")
    with config_errors():  # TopicError is a ValueError
        parse_broker_url(args.mqtt)
        validate_id(args.site, "--site")
    if args.password_file and not Path(args.password_file).is_file():
        raise ConfigError(f"--password-file {args.password_file}: no such file")
    if args.corpus and args.corpus.partition(":")[0] not in ("emodb", "ravdess"):
        raise ConfigError("--corpus must be emodb:DIR or ravdess:DIR")


def _run(args: argparse.Namespace) -> int:
    _check(args)
    state = Path(args.state_dir or "poise-simulate").resolve()
    stop = threading.Event()
    cpus = os.cpu_count() or 1
    procs = args.processes or max(1, min(args.devices if not args.metrics_only else 4, cpus))
    procs = min(procs, args.devices)

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.metrics_only:
            from edge.simulate.replay import ReplayOptions, run_replay

            opts = ReplayOptions(
                mqtt=args.mqtt,
                site=args.site,
                devices=args.devices,
                state_dir=state,
                speed=args.speed,
                duration_s=args.duration,
                window_s=args.window_s,
                username=args.username,
                password_file=args.password_file,
            )
            print(
                f"simulate: {args.devices} metrics-only devices on site {args.site} -> "
                f"{args.mqtt} ({procs} process(es), speed {args.speed:g})",
                flush=True,
            )
            sent = run_replay(opts, procs, stop)
            print(f"simulate: published {sent} messages", flush=True)
            return 0
        from edge.simulate.fleet import run_full

        specs = _full_specs(args, state)
        print(
            f"simulate: {args.devices} desks running the device loop on site {args.site} -> "
            f"{args.mqtt} ({procs} process(es), speed {args.speed:g}, state in {state})",
            flush=True,
        )
        results = run_full(specs, procs, stop)
        for r in results:
            shown = sum(1 for _, _, s in r.cues if s == "on")
            print(f"  {r.device}: {r.audio_s:.0f} s of audio, {r.events} events, {shown} cues")
        return 0
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        sys.stdout.flush()


def _full_specs(args: argparse.Namespace, state: Path) -> list[Any]:
    from edge.simulate.desk import DeskSpec

    auth: list[str] = []
    if args.username:
        auth.append(f"telemetry.username={args.username}")
    if args.password_file:
        auth.append(f"telemetry.password_file={Path(args.password_file).resolve()}")
    return [
        DeskSpec(
            index=i + 1,
            site=args.site,
            state_dir=state / f"desk-{i + 1:02d}",
            mqtt=args.mqtt,
            speed=args.speed,
            duration_s=args.duration,
            overrides=(*auth, *args.overrides),
            corpus=args.corpus,
            call_s=args.call_s,
            gap_s=args.gap_s,
        )
        for i in range(args.devices)
    ]
