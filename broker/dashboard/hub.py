"""In-process pub/sub between the collector (publisher) and the dashboard (subscribers).

The collector calls :meth:`TelemetryHub.publish` from its own thread after a batch commits, once
per stored payload; subscribers are plain callables run in that thread, so they must be quick
(the dashboard's folds the payload into its floor state and wakes its event loop). A subscriber
that raises is logged and counted, never breaks the collector.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Subscriber = Callable[[str, str, str, Mapping[str, Any]], None]
"""``(kind, site, device, payload)`` of one stored contract payload."""


class TelemetryPublisher(Protocol):
    """What the collector needs from the hub."""

    def publish(self, kind: str, site: str, device: str, payload: Mapping[str, Any]) -> None: ...


class TelemetryHub:
    """Fan-out of stored payloads to in-process subscribers (thread-safe)."""

    def __init__(self) -> None:
        self._subs: list[Subscriber] = []
        self._lock = threading.Lock()
        self.errors = 0
        self.published = 0

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Add ``fn``; returns a function that removes it."""
        with self._lock:
            self._subs.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subs:
                    self._subs.remove(fn)

        return unsubscribe

    def publish(self, kind: str, site: str, device: str, payload: Mapping[str, Any]) -> None:
        with self._lock:
            subs = list(self._subs)
            self.published += 1
        for fn in subs:
            try:
                fn(kind, site, device, payload)
            except Exception:
                self.errors += 1
                log.exception("dashboard hub subscriber failed on %s/%s/%s", site, device, kind)
