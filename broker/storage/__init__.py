"""Collector storage: one query API over SQLite (embedded default) or PostgreSQL (scale-out).

Open a store with :func:`open_store` (``sqlite:///abs/path.db`` — everything after ``sqlite://``
is the file path — or ``postgresql://user@host:port/db``). Both backends are
:class:`~broker.storage.sql.SqlStore` and answer the same calls, all returning the frozen rows of
:mod:`broker.storage.model`:

- ``write(batch) -> int`` — store validated messages in one transaction (insert-or-ignore on
  (device, boot, seq)); returns after COMMIT.
- ``registry(site=None) -> [DeviceRow]``, ``device(id) -> DeviceRow | None`` — the fleet.
- ``floor(site=None) -> [FloorRow]`` — per desk now: registry row, latest window, latest event.
- ``series(device, kind="metrics", since, until, limit) -> [Point]`` — a device's time series.
- ``latest(device, kind) -> Point | None``, ``events(device=None, since, limit) -> [Point]``.
- ``rollups(device=None, since, until) -> [Rollup]`` — hourly aggregates (kept longer than raw).
- ``gaps(device=None) -> [Gap]`` — missing seq runs per device and boot.
- ``counts() -> {"rows", "keys", "devices"}``; ``maintain(now, Retention)``; ``close()``.

The schema is described in :mod:`broker.storage.schema`.
"""

from __future__ import annotations

from pathlib import Path

from broker.storage.maintenance import Retention
from broker.storage.model import DeviceRow, FloorRow, Gap, Message, Point, Rollup
from broker.storage.sql import SqlStore
from edge.errors import ConfigError

__all__ = [
    "DeviceRow",
    "FloorRow",
    "Gap",
    "Message",
    "Point",
    "Retention",
    "Rollup",
    "SqlStore",
    "open_store",
]


def open_store(url: str, *, sqlite_synchronous: str = "FULL") -> SqlStore:
    """Open the store at a ``sqlite://`` or ``postgresql://`` URL, creating its schema."""
    if url.startswith("sqlite://"):
        from broker.storage.sqlite import SqliteStore

        path = url[len("sqlite://") :]
        if not path:
            raise ConfigError(f"database URL {url!r} has no file path")
        try:
            return SqliteStore(Path(path), synchronous=sqlite_synchronous)
        except Exception as exc:  # sqlite3.Error, OSError
            raise ConfigError(f"cannot open database {path}: {exc}") from None
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        from broker.storage.postgres import PostgresStore

        try:
            return PostgresStore(url)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot connect to {url}: {first}") from None
    raise ConfigError(f"database URL must start with sqlite:// or postgresql://, got {url!r}")
