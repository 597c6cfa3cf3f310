"""``poise model``: placeholder until its issue lands (registered so the CLI imports)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("model", help="(not built yet)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print("poise model: not built yet")
    return 1
