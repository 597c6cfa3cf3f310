"""Writing files safely: atomic replacement and JSON without NaN.

Every file Poise writes (analysis outputs, event logs' neighbours, model cards, baseline state)
goes to a temporary sibling first and is renamed into place only when complete, so a crash or an
error never leaves half a file and an existing file stays as it was.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, sync_dir: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path``; rename it over ``path`` only if the block succeeds.

    The data is fsync'ed before the rename; with ``sync_dir`` the directory is fsync'ed after it
    too, so the rename itself survives a power cut (used for state the device must not lose).
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; give the usual permissions
        binary = "b" in mode
        fh: IO[Any]
        with os.fdopen(
            fd, mode, newline=None if binary else "", encoding=None if binary else "utf-8"
        ) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_bytes_atomic(path: str | Path, data: bytes, *, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_write(path, "wb", sync_dir=sync_dir) as fh:
        fh.write(data)


def write_text_atomic(path: str | Path, text: str, *, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with atomic_write(path, "w", sync_dir=sync_dir) as fh:
        fh.write(text)


def json_safe(obj: Any) -> Any:
    """NaN/inf floats to None and numpy scalars to Python ones, recursively (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    return obj
