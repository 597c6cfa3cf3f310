"""The rows the storage layer takes in and hands out (same for the SQLite and PostgreSQL backends).

Times are UTC seconds since the epoch (floats) everywhere: ``ts`` is the device's wall clock when
it made the message, ``received`` the collector's when the message arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    """One validated telemetry message, ready to store."""

    site: str
    """Site id from the topic."""
    device: str
    """Device id from the topic (equal to the payload's ``device``)."""
    kind: str
    """Topic kind: ``status``, ``metrics``, ``events`` or ``health``."""
    boot: int
    """The device's boot counter."""
    seq: int
    """Sequence number within the boot (unique per device and boot)."""
    ts: float
    """Device wall clock (UTC epoch seconds) when the message was made."""
    received: float
    """Collector wall clock (UTC epoch seconds) when the message arrived."""
    body: dict[str, Any]
    """The parsed payload."""
    text: str
    """The payload as stored (compact JSON of ``body``)."""
    call: str | None = None
    """The call id the message belongs to, if any."""


@dataclass(frozen=True)
class DeviceRow:
    """One device in the registry (built from every message, retained status and health)."""

    device: str
    site: str
    first_seen: float
    """Collector time of the first message ever stored from this device."""
    last_seen: float
    """Collector time of the latest message from this device."""
    online: bool | None
    """From the latest status message (retained birth / last will); None if none seen yet."""
    status_ts: float | None
    """Device time of that status message."""
    boot: int | None
    """Boot of the latest status or health message."""
    software: str | None
    model: str | None
    model_sha256: str | None
    config_version: str | None
    policy_profile: str | None
    status_reason: str | None
    """``birth``, ``shutdown`` or ``lost`` (from the latest status message)."""
    agent: str | None
    """Signed-in agent id from the latest status message, if the device reports one."""
    detectors: list[str] | None
    """Detectors the device runs (from its birth message)."""
    health: dict[str, Any] | None
    """The latest health payload."""
    health_ts: float | None


@dataclass(frozen=True)
class Point:
    """One stored message in a time series."""

    device: str
    kind: str
    boot: int
    seq: int
    ts: float
    body: dict[str, Any]


@dataclass(frozen=True)
class FloorRow:
    """What a supervisor sees for one desk right now: registry row, latest window, latest event."""

    device: DeviceRow
    metrics: Point | None
    """The latest metrics window."""
    event: Point | None
    """The latest event."""


@dataclass(frozen=True)
class Rollup:
    """One device-hour of metrics windows: per numeric field count/sum/min/max; events by type."""

    device: str
    hour: float
    """Start of the hour (UTC epoch seconds, a multiple of 3600)."""
    windows: int
    """Metrics windows in the hour."""
    fields: dict[str, dict[str, float]]
    """Dotted payload path -> {"n", "sum", "min", "max"} over the windows."""
    events: dict[str, int]
    """Event type -> count in the hour."""

    def mean(self, path: str) -> float | None:
        f = self.fields.get(path)
        return f["sum"] / f["n"] if f and f["n"] else None


@dataclass(frozen=True)
class Gap:
    """A run of sequence numbers missing from the store for one device and boot (inclusive)."""

    device: str
    boot: int
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1
