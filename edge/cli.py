"""The ``poise`` command line: one console script, one module per subcommand under edge.commands.

Subcommand modules define ``register(subparsers)``; they import heavy dependencies only inside the
function that runs the command, so ``poise --help`` stays fast on a Pi.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from edge import __version__
from edge.errors import PoiseError

log = logging.getLogger(__name__)

#: Subcommand modules, in the order ``poise --help`` lists them.
COMMAND_MODULES = (
    "edge.commands.analyze",
    "edge.commands.edge",
    "edge.commands.model",
    "edge.commands.broker",
    "edge.commands.collector",
    "edge.commands.fleet",
    "edge.commands.users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poise",
        description="Poise: on-device prosody analysis and calm cues for contact-center agents.",
    )
    parser.add_argument("--version", action="version", version=f"poise {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        rc = args.func(args)
    except PoiseError as exc:
        print(f"poise: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        print("poise: error: output closed early (broken pipe); stopped", file=sys.stderr)
        return 2
    return int(rc or 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
