"""``poise fleet``: provision a fleet of desks (CA, registry, enrollment, bundles, revocation,
signed config and models). Runs on the central server; see docs/fleet.md."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from edge.commands._common import config_errors

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("fleet", help="provision desks: CA, enrollment, bundles, revoke, config")
    p.add_argument("--dir", default="fleet", type=Path, help="fleet directory (default ./fleet)")
    fs = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)

    init = fs.add_parser("init", help="create the fleet CA, signing key, broker cert and config")
    init.add_argument("--name", default="poise-fleet", help="CA name")
    init.add_argument("--broker-host", default="localhost", help="host name devices connect to")
    init.add_argument(
        "--server-name",
        action="append",
        default=[],
        metavar="NAME",
        help="extra host name or address for the server certificate (repeatable)",
    )
    init.add_argument("--enroll-url", help="https://HOST:PORT of the enrollment endpoint")
    init.add_argument("--device-port", type=int, default=8883)
    init.add_argument("--admin-port", type=int, default=8884)
    init.set_defaults(func=_init)

    add = fs.add_parser("add", help="add one device; prints its one-time enrollment token")
    add.add_argument("device")
    add.add_argument("--site", required=True)
    add.add_argument("--desk", required=True)
    add.set_defaults(func=_add)

    imp = fs.add_parser("import", help="add devices from a CSV (device,site,desk); all or none")
    imp.add_argument("csv", type=Path)
    imp.add_argument(
        "--tokens",
        type=Path,
        metavar="OUT.csv",
        help="write device,token (0600); default: tokens are issued by `bundle`",
    )
    imp.set_defaults(func=_import)

    b = fs.add_parser("bundle", help="boot-partition bundle for a device (cloud-init, token)")
    b.add_argument("device")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument(
        "--wheel",
        action="append",
        default=[],
        type=Path,
        help="Poise wheel to install offline (repeatable)",
    )
    b.set_defaults(func=_bundle)

    ls = fs.add_parser("list", help="inventory: site, desk, state, last seen, versions, expiry")
    ls.add_argument("--site")
    ls.add_argument("--json", action="store_true")
    ls.add_argument(
        "--live",
        action="store_true",
        help="first read every device's retained status from the broker",
    )
    ls.set_defaults(func=_list)

    rv = fs.add_parser("revoke", help="revoke a device: CRL, ACL, broker reload, session ended")
    rv.add_argument("device")
    rv.set_defaults(func=_revoke)

    rn = fs.add_parser("renew", help="new one-time token (replacement unit or renewal)")
    rn.add_argument("device")
    rn.set_defaults(func=_renew)

    idf = fs.add_parser("identify", help="make the desk's LED/puck blink")
    idf.add_argument("device")
    idf.add_argument("--seconds", type=float, default=30.0)
    idf.set_defaults(func=_identify)

    cfg = fs.add_parser("config", help="signed per-site/per-device config")
    cs = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cset = cs.add_parser("set", help="set KEY=VALUE settings for a site or a device")
    scope = cset.add_mutually_exclusive_group(required=True)
    scope.add_argument("--site")
    scope.add_argument("--device")
    cset.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    cset.add_argument("--unset", action="append", default=[], metavar="KEY")
    cset.set_defaults(func=_config_set)
    cshow = cs.add_parser("show", help="the signed config a device has been sent")
    cshow.add_argument("device")
    cshow.set_defaults(func=_config_show)
    cref = cs.add_parser("refresh", help="re-sign every config (new expiry) and the CRL")
    cref.set_defaults(func=_config_refresh)

    pm = fs.add_parser("push-model", help="sign and push a model (its card beside it)")
    pm.add_argument("model", type=Path)
    pm.add_argument("--reference", required=True, type=Path, help="self-test clip (WAV)")
    pm.add_argument("--tolerance", type=float, default=0.05)
    pm.set_defaults(func=_push_model)

    sv = fs.add_parser("serve", help="run the enrollment/model HTTPS endpoint")
    sv.add_argument("--listen", default="0.0.0.0:8443", metavar="HOST:PORT")
    sv.set_defaults(func=_serve)


def _open(args: argparse.Namespace) -> closing[Any]:
    """The fleet in ``--dir``, for ``with``: closed when the command ends (or fails)."""
    from broker.fleet.fleet import Fleet
    from broker.fleet.layout import FleetDir

    return closing(Fleet(FleetDir(args.dir)))


def _init(args: argparse.Namespace) -> int:
    from broker.fleet.fleet import Fleet
    from broker.fleet.layout import FleetDir
    from broker.fleet.settings import FleetSettings

    names = list(dict.fromkeys([args.broker_host, *args.server_name, "localhost", "127.0.0.1"]))
    with config_errors():
        s = FleetSettings(
            name=args.name,
            broker_host=args.broker_host,
            server_names=tuple(names),
            device_port=args.device_port,
            admin_port=args.admin_port,
            enroll_url=args.enroll_url or f"https://{args.broker_host}:8443",
        )
    with closing(Fleet.init(FleetDir(args.dir), s)) as fleet:
        conf = fleet.dir.mosquitto_conf
    print(f"fleet initialised in {args.dir}")
    print(f"broker config: {conf} (run: mosquitto -c {conf})")
    print(f"enrollment endpoint: poise fleet --dir {args.dir} serve")
    return 0


def _add(args: argparse.Namespace) -> int:
    with _open(args) as fleet:
        a = fleet.add(args.device, args.site, args.desk)
    print(f"added {a.device} (site {a.site}, desk {a.desk})")
    print(f"enrollment token (shown once; `poise fleet bundle` issues a new one): {a.token}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from broker.fleet.csv_import import read_desks
    from broker.fleet.layout import write_secret

    rows = read_desks(args.csv)
    with _open(args) as fleet:
        t0 = time.perf_counter()
        added = fleet.add_many(rows)
        took = time.perf_counter() - t0
    if args.tokens:
        text = "device,token\n" + "".join(f"{a.device},{a.token}\n" for a in added)
        write_secret(args.tokens, text.encode())
    print(f"imported {len(added)} devices in {took:.2f} s")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from broker.fleet.bundle import write_bundle

    with _open(args) as fleet:
        files = write_bundle(fleet, args.device, args.out, wheels=args.wheel)
    print(
        f"bundle for {args.device}: {len(files)} files in {args.out} (copy onto the boot "
        "partition; see hw/provisioning.md)"
    )
    return 0


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))


def _list(args: argparse.Namespace) -> int:
    with _open(args) as fleet:
        if args.live:
            print(f"{fleet.sync_status()} device(s) reported a status", file=sys.stderr)
        devices = fleet.registry.devices(site=args.site)
    if args.json:
        print(json.dumps([{**d.__dict__, "state": d.state} for d in devices], indent=1))
        return 0
    print(
        f"{'site':<12} {'device':<20} {'desk':<12} {'state':<9} {'last seen':<16} "
        f"{'software':<10} {'model':>5} {'config':>6} cert until"
    )
    for d in devices:
        print(
            f"{d.site:<12} {d.id:<20} {d.desk:<12} {d.state:<9} {_when(d.last_seen):<16} "
            f"{d.software or '-':<10} {d.model_version or '-':>5} {d.config_version or '-':>6} "
            f"{_when(d.cert_not_after)[:10]}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with _open(args) as fleet:
        fleet.revoke(args.device)
    print(f"revoked {args.device}: CRL and ACL regenerated, broker reloaded, session ended")
    return 0


def _renew(args: argparse.Namespace) -> int:
    with _open(args) as fleet:
        token = fleet.new_enrollment_token(args.device)
    print(
        f"new enrollment token for {args.device} (enrolling with it revokes the old "
        f"certificate; or run `poise fleet bundle {args.device}`): {token}"
    )
    return 0


def _identify(args: argparse.Namespace) -> int:
    with _open(args) as fleet:
        cid = fleet.identify(args.device, args.seconds)
    print(f"identify sent to {args.device} (cmd {cid})")
    return 0


def _config_set(args: argparse.Namespace) -> int:
    from broker.fleet.pushes import config_set

    with _open(args) as fleet:
        out = config_set(
            fleet,
            site=args.site,
            device=args.device,
            assignments=args.assignments,
            unset=args.unset,
        )
    print(
        f"config published to {len(out)} device(s)"
        + (f", version {out[-1][1]}" if len(out) == 1 else "")
    )
    return 0


def _config_show(args: argparse.Namespace) -> int:
    from broker.fleet.pushes import config_show

    with _open(args) as fleet:
        doc = config_show(fleet, args.device)
    if doc is None:
        print(f"{args.device}: no config sent yet")
        return 0
    if doc.get("model"):
        m = doc["model"]["signed"]
        doc = {**doc, "model": {k: m[k] for k in ("name", "version", "sha256", "expires")}}
    json.dump(doc, sys.stdout, indent=1)
    print()
    return 0


def _config_refresh(args: argparse.Namespace) -> int:
    from broker.fleet.pushes import refresh

    with _open(args) as fleet:
        out = refresh(fleet)
    print(f"re-signed and published {len(out)} config(s)")
    return 0


def _push_model(args: argparse.Namespace) -> int:
    from broker.fleet.pushes import push_model

    with _open(args) as fleet:
        m = push_model(fleet, args.model, args.reference, args.tolerance)
    print(
        f"model {m['name']} version {m['version']} ({m['size']} bytes, sha256 "
        f"{m['sha256'][:12]}...) pushed; self-test expects {m['reference']['expect']}"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from broker.fleet.enroll_api import serve
    from edge.errors import ConfigError

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--listen {args.listen!r} is not HOST:PORT")
    with _open(args):  # a fleet directory that opens, or one error line before serving
        pass
    serve(args.dir, host, int(port))
    return 0
