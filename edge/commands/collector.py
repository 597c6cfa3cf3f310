"""``poise collector``: run the collector (MQTT -> validated, exactly-once rows) or list gaps."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from contextlib import closing
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "collector",
        help="the central collector: store every device message exactly once; find gaps",
        description="Central collector of device telemetry (docs/collector.md).",
    )
    csub = p.add_subparsers(dest="collector_command", metavar="ACTION", required=True)
    run = csub.add_parser(
        "run",
        help="subscribe (MQTT v5 shared subscription) and store, acking only after commit",
        description=(
            "Subscribe to every device's telemetry with an MQTT v5 shared subscription and a "
            "persistent session, validate each payload, store it in SQLite or PostgreSQL "
            "(exactly once per device, boot and seq) and acknowledge it to the broker only "
            "after its transaction committed. Serves /metrics, /healthz and the dashboard."
        ),
    )
    run.add_argument("--config", metavar="collector.toml", help="settings file")
    run.add_argument("--mqtt", metavar="URL", help="broker, e.g. mqtt://127.0.0.1:1883")
    run.add_argument("--db", metavar="URL", help="sqlite://PATH or postgresql://user@host/db")
    run.add_argument("--http", metavar="HOST:PORT", help="/metrics and /healthz ('' = off)")
    run.set_defaults(func=_run)
    gaps = csub.add_parser(
        "gaps",
        help="per device and boot, the seq ranges missing from the database",
        description=(
            "List, per device and boot, the runs of sequence numbers missing from the database "
            "(between the boot's first seq and the newest one stored). Prints nothing but "
            "'no gaps' when every desk's data is complete."
        ),
    )
    gaps.add_argument("--config", metavar="collector.toml", help="settings file (database.url)")
    gaps.add_argument("--db", metavar="URL", help="sqlite://PATH or postgresql://user@host/db")
    gaps.add_argument("--device", metavar="ID", help="only this device")
    gaps.set_defaults(func=_gaps)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for logs and the console)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _run(args: argparse.Namespace) -> int:
    from broker.collector.service import Collector
    from broker.collector.settings import load_settings
    from broker.storage import open_store

    settings = load_settings(args.config, mqtt=args.mqtt, db=args.db, http=args.http)
    store = open_store(
        settings.database.url, sqlite_synchronous=settings.database.sqlite_synchronous
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    http = settings.http.address()
    publisher, web = None, None
    if http and settings.dashboard.enabled:
        from broker.dashboard import TelemetryHub, create_app
        from broker.dashboard.collector_store import CollectorStore

        publisher = TelemetryHub()
        web = create_app(CollectorStore(settings.database.url), settings.dashboard, hub=publisher)
    collector = Collector(settings, store, publisher=publisher, web=web)
    print(
        f"collector {settings.mqtt.client_id} (group {settings.mqtt.group}): "
        f"{redact_url(settings.mqtt.url)} -> {redact_url(settings.database.url)}"
        + (f"; metrics on http://{http[0]}:{http[1]}/metrics" if http else "")
        + (f"; dashboard on http://{http[0]}:{http[1]}/" if http and web is not None else ""),
        flush=True,
    )
    try:
        collector.run(stop)
    finally:
        store.close()
    return 0


def _gaps(args: argparse.Namespace) -> int:
    from broker.collector.settings import load_settings
    from broker.storage import open_store

    settings = load_settings(args.config, db=args.db)
    with closing(open_store(settings.database.url)) as store:
        gaps = store.gaps(args.device)
        counts = store.counts()
    if not gaps:
        print(f"no gaps ({counts['rows']} messages from {counts['devices']} devices)")
        return 0
    print(f"{'device':<24} {'boot':>6} {'missing seq':>23} {'count':>8}")
    for g in gaps:
        span = f"{g.first}" if g.first == g.last else f"{g.first}-{g.last}"
        print(f"{g.device:<24} {g.boot:>6} {span:>23} {g.count:>8}")
    print(f"{len(gaps)} gap(s), {sum(g.count for g in gaps)} messages missing")
    return 0
