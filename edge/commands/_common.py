"""Plumbing the subcommands share (not a subcommand: ``edge.cli`` does not register it)."""

from __future__ import annotations

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
