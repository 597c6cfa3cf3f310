"""The reads the dashboard needs from the collector's database (one small protocol)."""

from __future__ import annotations

from typing import Protocol

from broker.dashboard.model import CueEvent, Gap, Health, Window


class DashboardStore(Protocol):
    """Read side of the collector's storage, as the dashboard uses it."""

    def registry(self) -> list[Health]:
        """Every known device with its status and last health."""
        ...

    def windows(self, device: str, since: float, until: float) -> list[Window]:
        """The device's metrics windows with ``since <= ts < until``, oldest first."""
        ...

    def cue_events(self, device: str | None, since: float, until: float) -> list[CueEvent]:
        """Cue/drift on/off events (of one device, or all with None), oldest first."""
        ...

    def gaps(self) -> list[Gap]:
        """Missing seq ranges per device and boot (what ``poise collector gaps`` prints)."""
        ...
