"""Where Poise keeps state: the directory the OS expects, never one an ordinary user cannot write.

Under systemd (``StateDirectory=poise`` in the shipped unit) the service manager creates the
directory, owns it to the service user and passes it as ``$STATE_DIRECTORY`` (several entries are
separated by ``:``; the first is used). Anywhere else the XDG base-directory rule applies:
``$XDG_STATE_HOME/poise``, defaulting to ``~/.local/state/poise``. ``baseline.state_file`` set in
the config overrides both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP = "poise"
BASELINE_FILE = "baseline.json"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """The state directory for this process (see the module docstring)."""
    env = os.environ if env is None else env
    systemd = env.get("STATE_DIRECTORY", "")
    first = systemd.split(":")[0].strip()
    if first:
        return Path(first)
    xdg = env.get("XDG_STATE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the spec says relative values are to be ignored
        return Path(xdg) / APP
    home = env.get("HOME", "").strip()
    base = Path(home) if home else Path.home()
    return base / ".local" / "state" / APP


def baseline_state_file(configured: Path | None, env: Mapping[str, str] | None = None) -> Path:
    """``configured`` if set, else ``baseline.json`` in :func:`state_dir`."""
    if configured is not None:
        return Path(configured)
    return state_dir(env) / BASELINE_FILE
