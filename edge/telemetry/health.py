"""The ``health`` payload body, from small injected providers.

Each figure comes from a provider passed in (the real ones read ``/sys`` and ``/proc``; tests pass
constants), so the reporter itself does no I/O and its timing follows the injected clock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edge.protocols import Clock
from edge.telemetry.outbox import OutboxStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioHealth:
    """What the audio input reports."""

    ok: bool = True
    overflows: int = 0
    reopens: int = 0


class SinkCounters(Protocol):
    dropped: int
    errors: int


def cpu_temperature_c(root: Path = Path("/sys/class/thermal")) -> float | None:
    """The first readable thermal zone, in °C (None where there is none, as in most VMs)."""
    try:
        zones = sorted(root.glob("thermal_zone*/temp"))
    except OSError:
        return None
    for zone in zones:
        try:
            return round(int(zone.read_text().strip()) / 1000.0, 1)
        except (OSError, ValueError):
            continue
    return None


def load1() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def rss_bytes(statm: Path = Path("/proc/self/statm")) -> int:
    """Resident set size of this process (0 where /proc is missing)."""
    try:
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class HealthProviders:
    """Where each figure comes from (defaults: this machine)."""

    cpu_temp_c: Callable[[], float | None] = cpu_temperature_c
    load1: Callable[[], float | None] = load1
    rss_bytes: Callable[[], int] = rss_bytes
    audio: Callable[[], AudioHealth] = AudioHealth
    sinks: Callable[[], Mapping[str, SinkCounters]] = field(default=lambda: {})


class HealthReporter:
    """Builds a ``health`` body; ``due(now)`` says when the next one is wanted."""

    def __init__(
        self, clock: Clock, interval_s: float = 60.0, providers: HealthProviders | None = None
    ) -> None:
        self.clock = clock
        self.interval_s = interval_s
        self.providers = providers or HealthProviders()
        self.started = clock.now()
        self._next = self.started + interval_s

    @property
    def next_due(self) -> float:
        return self._next

    def due(self, now: float) -> bool:
        return now >= self._next

    def mark(self, now: float) -> None:
        """One was sent at ``now``: the next is due one interval later (never a burst after a
        clock jump)."""
        self._next = max(self._next + self.interval_s, now + self.interval_s / 2)

    def _safe(self, fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as exc:  # a broken provider must not stop health reporting
            log.debug("health provider %s failed: %s", getattr(fn, "__name__", fn), exc)
            return default

    def body(self, outbox: OutboxStats) -> dict[str, Any]:
        p = self.providers
        audio: AudioHealth = self._safe(p.audio, AudioHealth(ok=False))
        sinks = self._safe(p.sinks, {})
        return {
            "uptime_s": round(max(0.0, self.clock.now() - self.started), 1),
            "cpu_temp_c": self._safe(p.cpu_temp_c, None),
            "load1": self._safe(p.load1, None),
            "rss_bytes": int(self._safe(p.rss_bytes, 0)),
            "audio": {
                "ok": bool(audio.ok),
                "overflows": int(audio.overflows),
                "reopens": int(audio.reopens),
            },
            "outbox": {"depth": outbox.depth, "bytes": outbox.bytes, "dropped": outbox.dropped},
            "sinks": {
                name: {"errors": int(s.errors), "dropped": int(s.dropped)}
                for name, s in sorted(sinks.items())
            },
        }
