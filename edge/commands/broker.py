"""``poise broker run``: a real Mosquitto for development, configured in a directory it owns."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from edge.errors import ConfigError

log = logging.getLogger(__name__)

USERS = ("collector", "device")
"""Development accounts written to the password file (passwords in ``DIR/credentials``)."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "broker",
        help="run a local Mosquitto MQTT broker for development",
        description="Mosquitto for Poise (production, TLS and site-bridge templates: "
        "broker/mosquitto/, docs/collector.md).",
    )
    bsub = p.add_subparsers(dest="broker_command", metavar="ACTION", required=True)
    run = bsub.add_parser(
        "run",
        help="start mosquitto on loopback with a password file and persistence; Ctrl-C stops it",
        description=(
            "Write a development Mosquitto config (loopback listener, password file with the "
            "accounts 'collector' and 'device', persistence, bounded queues) into DIR, start "
            "mosquitto with it, print how to connect, and stop it cleanly on Ctrl-C. Passwords "
            "are generated once and kept in DIR/credentials."
        ),
    )
    run.add_argument("--dir", metavar="DIR", help="its directory (default: ./poise-broker)")
    run.add_argument("--port", type=int, default=1883, metavar="N", help="TCP port (1883)")
    run.add_argument("--host", default="127.0.0.1", help="listen address (127.0.0.1)")
    run.set_defaults(func=_run)


def _mosquitto_ids() -> tuple[int, int] | None:
    """uid/gid mosquitto drops to when started as root (None when we are not root)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pw = pwd.getpwnam("mosquitto")
    except KeyError:
        raise ConfigError("running as root but there is no 'mosquitto' user to drop to") from None
    return pw.pw_uid, pw.pw_gid


def _check_reachable(directory: Path) -> None:
    """Mosquitto (dropped to its user) must be able to traverse every parent of ``directory``."""
    for parent in directory.parents:
        st = parent.stat()
        if not st.st_mode & 0o001:
            raise ConfigError(
                f"mosquitto runs as user 'mosquitto', which cannot enter {parent} "
                f"(mode {st.st_mode & 0o777:o}); choose a --dir it can reach"
            )


def credentials(directory: Path) -> dict[str, str]:
    """Read (or create) DIR/credentials: one ``user password`` per line."""
    path = directory / "credentials"
    if path.exists():
        pairs = [line.split(None, 1) for line in path.read_text("utf-8").splitlines() if line]
        creds = {u: p.strip() for u, p in pairs}
        if set(USERS) <= set(creds):
            return creds
    creds = {u: secrets.token_urlsafe(18) for u in USERS}
    path.write_text("".join(f"{u} {p}\n" for u, p in creds.items()), encoding="utf-8")
    path.chmod(0o600)
    return creds


def prepare(directory: Path, port: int, host: str = "127.0.0.1") -> tuple[Path, dict[str, str]]:
    """Write config and password file into ``directory``; return (config path, credentials)."""
    from broker.mosquitto.config import dev_config

    passwd_tool = shutil.which("mosquitto_passwd")
    if passwd_tool is None:
        raise ConfigError("mosquitto_passwd not found (apt-get install mosquitto)")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    creds = credentials(directory)
    passwd = directory / "passwd"
    passwd.unlink(missing_ok=True)
    passwd.touch(mode=0o600)
    for user, password in creds.items():
        subprocess.run([passwd_tool, "-b", str(passwd), user, password], check=True)
    conf = directory / "mosquitto.conf"
    conf.write_text(dev_config(str(directory), port, host, str(passwd)), encoding="utf-8")
    ids = _mosquitto_ids()
    if ids is not None:
        _check_reachable(directory)
    if ids is not None:  # mosquitto reads the password file and persists after dropping to it
        for p in (directory, passwd, conf, *directory.glob("mosquitto.db*")):
            os.chown(p, *ids)
        passwd.chmod(0o600)
    return conf, creds


def _run(args: argparse.Namespace) -> int:
    mosquitto = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if mosquitto is None:
        raise ConfigError("mosquitto not found (apt-get install mosquitto)")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    directory = Path(args.dir or "poise-broker")
    conf, creds = prepare(directory, args.port, args.host)
    proc = subprocess.Popen([mosquitto, "-c", str(conf)])
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True
        if proc.poll() is None:
            proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url = f"{args.host}:{args.port}"
    print(
        f"mosquitto (pid {proc.pid}) on {url}, config and data in {directory.resolve()}\n"
        f"  collector: poise collector run --mqtt mqtt://collector:{creds['collector']}@{url}\n"
        f"  device:    poise edge run --mqtt mqtt://device:{creds['device']}@{url} ...\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    rc = proc.wait()
    if stopping:
        print("mosquitto stopped", file=sys.stderr)
        return 0
    raise ConfigError(f"mosquitto exited with status {rc} (its log is above)")
