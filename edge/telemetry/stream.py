"""The device's message stream: ``seq`` allocation, envelope, schema check (optional), outbox
write.

Thread-safe: the telemetry sink's worker and the publisher's thread (``health``) both publish.
Sequence numbers are taken under one lock together with the outbox write, so ``seq`` order is
outbox order; ``version`` counts stored messages (the drain uses it to skip empty reads).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from edge.telemetry import schemas
from edge.telemetry.control import BirthInfo
from edge.telemetry.envelope import WallClock, envelope
from edge.telemetry.outbox import Outbox
from edge.telemetry.topics import DeviceTopics

log = logging.getLogger(__name__)

STREAM_KINDS = ("metrics", "events", "health")
"""Kinds that go through the outbox (gap-checked by ``seq``); ``status`` is retained state."""


class Stream:
    """Turns payload bodies into stored, numbered, schema-checked messages of one boot."""

    def __init__(
        self, topics: DeviceTopics, boot: int, outbox: Outbox, wall: WallClock, check: bool = True
    ) -> None:
        self.topics = topics
        self.check = check
        """Validate each payload against its schema (:data:`TelemetrySettings.check_payloads`)."""
        self.boot = boot
        self.outbox = outbox
        self.wall = wall
        self._lock = threading.Lock()
        last = outbox.max_seq(boot)
        self._next_seq = 0 if last is None else last + 1
        self.version = 0
        """Incremented by every stored message."""
        self.stored = 0
        self.invalid = 0
        """Payloads refused before storing (failed their schema: a bug, logged)."""

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def put(self, kind: str, body: dict[str, Any]) -> int | None:
        """Store one message; its ``seq``, or None if the payload was invalid."""
        if kind not in STREAM_KINDS:
            raise ValueError(f"{kind!r} is not a stream kind ({', '.join(STREAM_KINDS)})")
        with self._lock:
            seq = self._next_seq
            now = self.wall()
            t = self.topics
            payload = envelope(kind, t.site, t.device, self.boot, seq, now, body)
            try:
                if self.check:
                    schemas.validate(kind, payload)
                raw = schemas.encode(payload)
            except ValueError as exc:
                self.invalid += 1
                log.error("not publishing an invalid %s payload: %s", kind, str(exc)[:300])
                return None
            self.outbox.put(self.boot, seq, kind, now, raw)
            self._next_seq = seq + 1
            self.version += 1
            self.stored += 1
        return seq

    def status(self, birth: BirthInfo, state: str, reason: str) -> bytes:
        """A ``status`` payload (not stored: retained state; ``seq`` = the next stream seq)."""
        with self._lock:
            seq = self._next_seq
        t = self.topics
        body = birth.body(state, reason)
        payload = envelope("status", t.site, t.device, self.boot, seq, self.wall(), body)
        if self.check:
            schemas.validate("status", payload)
        return schemas.encode(payload)
