"""Plumbing the subcommands share (not a subcommand: ``edge.cli`` does not register it)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from edge.errors import ConfigError


@contextmanager
def config_errors(kinds: tuple[type[Exception], ...] = (ValueError,)) -> Iterator[None]:
    """Re-raise ``kinds`` raised inside (a library refusing a flag's value) as a
    :class:`~edge.errors.ConfigError` with the same message, which ``edge.cli`` prints as one
    ``poise: error: ...`` line (exit 2) without a traceback."""
    try:
        yield
    except kinds as exc:
        raise ConfigError(str(exc)) from None


def add_setting_overrides(p: argparse.ArgumentParser, help: str) -> None:
    """The repeatable ``--set KEY=VALUE`` device-setting override (into ``args.overrides``)."""
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )
