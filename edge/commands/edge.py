"""``poise edge``: placeholder until its issue lands (registered so the CLI imports)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("edge", help="(not built yet)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print("poise edge: not built yet")
    return 1
