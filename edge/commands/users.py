"""``poise users add|list|passwd|remove``: dashboard accounts (argon2 hashes in a SQLite file)."""

from __future__ import annotations

import argparse
import getpass
import sys
from contextlib import closing
from typing import Any

DEFAULT_DB = "accounts.db"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "users",
        help="dashboard accounts: add, list, change password, remove",
        description=(
            "Manage who may log in to the dashboard. Roles: admin (everything, fleet), "
            "supervisor (--sites and/or --teams), agent (--agent: their own desk and trends)."
        ),
    )
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        metavar="FILE",
        help=f"accounts database (default {DEFAULT_DB}; dashboard.accounts_db)",
    )
    us = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = us.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "supervisor", "agent"])
    add.add_argument("--sites", default="", help="supervisor: comma-separated site ids")
    add.add_argument("--teams", default="", help="supervisor: comma-separated team ids")
    add.add_argument("--agent", help="agent: the agent id the devices report")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    add.set_defaults(func=_add)
    ls = us.add_parser("list", help="list accounts")
    ls.set_defaults(func=_list)
    pw = us.add_parser("passwd", help="set a new password (ends the account's sessions)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=_passwd)
    rm = us.add_parser("remove", help="delete an account and its sessions")
    rm.add_argument("name")
    rm.set_defaults(func=_remove)


def _store(args: argparse.Namespace) -> closing[Any]:
    """The accounts database, for ``with``: closed when the command ends (or fails)."""
    import time

    from broker.accounts.store import AccountStore

    return closing(AccountStore(args.db, time.time))


def _password(args: argparse.Namespace) -> str:
    from broker.accounts.store import AccountError

    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def _split(text: str) -> list[str]:
    return [s for s in (t.strip() for t in text.split(",")) if s]


def _add(args: argparse.Namespace) -> int:
    with _store(args) as store:
        u = store.add(
            args.name,
            args.role,
            _password(args),
            _split(args.sites),
            _split(args.teams),
            args.agent,
        )
    print(f"added {u.name} ({u.role.value})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        users = store.list()
    print(f"{'name':<20} {'role':<11} {'sites':<20} {'teams':<20} agent")
    for u in users:
        print(
            f"{u.name:<20} {u.role.value:<11} {','.join(u.sites) or '-':<20} "
            f"{','.join(u.teams) or '-':<20} {u.agent or '-'}"
        )
    return 0


def _passwd(args: argparse.Namespace) -> int:
    with _store(args) as store:
        store.passwd(args.name, _password(args))
    print(f"password changed for {args.name}; their sessions ended")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with _store(args) as store:
        store.remove(args.name)
    print(f"removed {args.name}")
    return 0
