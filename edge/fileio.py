"""Writing files safely: atomic replacement, ``-`` for stdout, inputs never overwritten.

Every file Poise writes (analysis outputs, model cards, baseline state) goes to a temporary
sibling first and is renamed into place only when complete, so a crash or an error never leaves
half a file and an existing file stays as it was. The rename only ever replaces a *regular file*:
an output path that is a symlink, a device node (``/dev/null``), a FIFO or a directory is refused
(:class:`~edge.errors.OutputError`), because renaming over it would destroy it. ``-`` means
standard output for every output alike (:func:`atomic_write` then writes straight to stdout).
:func:`refuse_same_file` keeps an output from being one of the inputs, and
:func:`clean_stale_temps` removes temporary files a killed run left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from edge.errors import OutputError

log = logging.getLogger(__name__)

STDOUT = "-"
"""The output path that means standard output."""


def is_stdout(path: str | Path | None) -> bool:
    """Whether ``path`` is ``-`` (standard output)."""
    return path is not None and str(path) == STDOUT


def _temp_prefix(p: Path) -> str:
    return f".{p.name}."


def check_replaceable(path: str | Path) -> Path:
    """Refuse (OutputError) an output that exists and is not a regular file (not followed)."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return p
    except OSError as exc:
        raise OutputError(f"cannot write {p}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"refusing to write {p}: it is a symbolic link (give the real path)")
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {p}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(
            f"refusing to write {p}: it is not a regular file (a device, FIFO or socket) and "
            "would be replaced"
        )
    return p


def refuse_same_file(output: str | Path | None, inputs: Iterable[str | Path | None]) -> None:
    """Refuse (OutputError) when ``output`` names the same file as one of ``inputs``."""
    if output is None or is_stdout(output):
        return
    out = Path(output)
    for inp in inputs:
        if inp is None or is_stdout(inp):
            continue
        same = False
        try:
            same = os.path.samefile(out, inp)
        except OSError:
            same = os.path.abspath(out) == os.path.abspath(inp)
        if same:
            raise OutputError(f"refusing to write {out}: it is the input {inp}")


@contextlib.contextmanager
def _stdout(mode: str) -> Iterator[IO[Any]]:
    fh: IO[Any] = sys.stdout.buffer if "b" in mode else sys.stdout
    yield fh
    fh.flush()


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, sync_dir: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path``; rename it over ``path`` only if the block succeeds.

    ``-`` writes to standard output instead. An existing ``path`` that is not a regular file is
    refused before anything is written. The data is fsync'ed before the rename; with
    ``sync_dir`` the directory is fsync'ed after it too, so the rename itself survives a power
    cut (used for state the device must not lose).
    """
    if is_stdout(path):
        with _stdout(mode) as out:
            yield out
        return
    p = check_replaceable(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(p), suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write {p}: {exc.strerror}") from None
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
        check_replaceable(p)  # it may have become a symlink or device while we wrote
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
    """Replace ``path`` with ``data`` atomically (``-``: standard output)."""
    with atomic_write(path, "wb", sync_dir=sync_dir) as fh:
        fh.write(data)


def write_text_atomic(path: str | Path, text: str, *, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically (``-``: standard output)."""
    with atomic_write(path, "w", sync_dir=sync_dir) as fh:
        fh.write(text)


def clean_stale_temps(path: str | Path) -> list[Path]:
    """Remove the temporary siblings of ``path`` that an interrupted :func:`atomic_write` left.

    ``path``'s name may be a glob pattern (``agents/agent-*.json``: the temporaries of every file
    it matches, written or not). Only call this while holding :func:`exclusive_lock` on what
    guards ``path`` (another live writer's temporary file would otherwise be removed). Returns
    what was removed.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    removed: list[Path] = []
    try:
        candidates = list(parent.glob(f"{_temp_prefix(p)}*.tmp"))
    except OSError:
        return removed
    for tmp in candidates:
        with contextlib.suppress(OSError):
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()
                removed.append(tmp)
                log.info("removed %s, left by an interrupted write", tmp)
    return removed


class LockHeld(OutputError):
    """Another process holds the lock."""


@contextlib.contextmanager
def exclusive_lock(path: str | Path) -> Iterator[Path]:
    """Hold an exclusive, non-blocking ``flock`` on ``<path>.lock`` for the block.

    A second run on the same state file fails at once with :class:`LockHeld` instead of racing;
    the kernel releases the lock when the process dies, so a killed run never leaves it stuck.
    """
    p = Path(path)
    lock = p.with_name(p.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot lock {p} (via {lock}): {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"{p} is in use by another poise process (lock {lock}); stop it first"
            ) from None
        yield lock
    finally:
        os.close(fd)


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


class StdoutGuard:
    """Standard output for a ``-`` output whose reader may go away (``--events - | head -1``).

    The first :class:`BrokenPipeError` sets :attr:`broken`, calls ``on_broken`` (the runner's
    ``stop``) and points the file descriptor at /dev/null so later writes and the interpreter's
    final flush cannot fail again; the command then reports one error line (exit 2) after it
    has stopped cleanly (cue cleared, baseline saved).
    """

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.broken = False
        self.on_broken: Any = None

    def _broke(self) -> None:
        if self.broken:
            return
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
        if self.on_broken is not None:
            self.on_broken()

    def write(self, text: str) -> int:
        if self.broken:
            return len(text)
        try:
            return self.out.write(text)
        except BrokenPipeError:
            self._broke()
            return len(text)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self.out.flush()
        except BrokenPipeError:
            self._broke()

    def close(self) -> None:
        self.flush()
