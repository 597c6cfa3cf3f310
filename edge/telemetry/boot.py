"""The per-device boot counter: persisted and fsynced before anything is sent.

``boot`` in every payload is this counter; it is incremented at every start of the publisher, so
``(device, boot, seq)`` is unique even though ``seq`` restarts at 0. The new value is written
atomically (temporary file, fsync, rename, fsync of the directory) *before* the publisher takes
its first sequence number, so a power cut can never make two runs share a boot number. If the
file is lost or corrupt, the boot numbers still found in the outbox are a floor.
"""

from __future__ import annotations

import logging
from pathlib import Path

from edge.fileio import write_text_atomic

log = logging.getLogger(__name__)

BOOT_FILE = "boot"


def read_boot(state_dir: Path) -> int:
    """The last persisted boot number (0 if none, or unreadable: logged)."""
    path = Path(state_dir) / BOOT_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        log.warning("cannot read boot counter %s: %s", path, exc)
        return 0
    try:
        value = int(text)
    except ValueError:
        log.warning("boot counter %s holds %r, not a number; starting above the outbox", path, text)
        return 0
    return max(value, 0)


def next_boot(state_dir: Path, floor: int = 0) -> int:
    """Increment and persist the boot counter (durably) and return the new value.

    ``floor``: the highest boot number known elsewhere (the outbox's); the result is above it."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    boot = max(read_boot(state_dir), floor) + 1
    write_text_atomic(state_dir / BOOT_FILE, f"{boot}\n", sync_dir=True)
    return boot
