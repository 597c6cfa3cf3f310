"""The writer core: received messages -> validation -> one committed batch -> what to acknowledge.

:class:`BatchWriter` never acknowledges anything itself; it returns, after the commit, the
received items whose PUBACK may now be sent (all of them: stored, duplicate, ignored and
rejected alike — a rejected message is dealt with for good). If the commit fails the exception
propagates and nothing is acknowledged; :meth:`BatchWriter.write_isolating` then tells a
database that is down (every write fails: retry later) from one message a backend refuses
(the others go in, that one is rejected as ``store_refused``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from broker.collector.metrics import Metrics
from broker.collector.validate import Ignored, Rejected, validate
from broker.storage.model import Message
from broker.storage.sql import SqlStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """One PUBLISH as it came off the wire."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received: float
    """Collector wall clock at arrival."""
    generation: int = 0
    """Which connection it arrived on (an ack is only valid on the same connection)."""
    via_shared: bool = True
    """Arrived through the shared subscription (status messages count only when they come
    through the collector's own in-order status subscription, see broker.collector.mqtt)."""


@dataclass
class RateLimitedLog:
    """At most one warning per key per ``interval_s``; the lines in between are counted."""

    interval_s: float
    clock: Callable[[], float]
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def warn(self, key: str, text: str) -> bool:
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        n = self._suppressed.pop(key, 0)
        self._last[key] = now
        more = f" (+{n} more since last report)" if n else ""
        log.warning("%s%s", text, more)
        return True


@dataclass(frozen=True)
class BatchResult:
    stored: int
    duplicates: int
    rejected: int
    ignored: int
    messages: list[Message]


class BatchWriter:
    """Validates and commits batches into ``store``, counting everything in ``metrics``."""

    def __init__(
        self,
        store: SqlStore,
        metrics: Metrics,
        *,
        wall: Callable[[], float],
        monotonic: Callable[[], float],
        max_bytes: int,
        reject_log: RateLimitedLog,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.wall = wall
        self.monotonic = monotonic
        self.max_bytes = max_bytes
        self.reject_log = reject_log

    def judge(self, items: Sequence[Received]) -> tuple[list[Message], int, int]:
        """Validate every item: (messages to store, rejected count, ignored count)."""
        messages: list[Message] = []
        rejected = ignored = 0
        for it in items:
            v = validate(it.topic, it.payload, it.received, max_bytes=self.max_bytes)
            if isinstance(v, Message) and v.kind == "status" and it.via_shared:
                ignored += 1  # the same status also arrives, in order, on the status filter
            elif isinstance(v, Message):
                messages.append(v)
            elif isinstance(v, Rejected):
                rejected += 1
                self.reject(v.reason, f"{v.detail} (topic {it.topic[:120]!r})")
            elif isinstance(v, Ignored):
                ignored += 1
        return messages, rejected, ignored

    def reject(self, reason: str, detail: str) -> None:
        self.metrics.rejected.labels(reason).inc()
        self.reject_log.warn(reason, f"rejected message ({reason}): {detail}")

    def commit(self, messages: Sequence[Message]) -> int:
        """Write ``messages`` in one transaction (raises if it fails); returns rows inserted."""
        t0 = self.monotonic()
        inserted = self.store.write(messages)
        self.metrics.commit_seconds.observe(self.monotonic() - t0)
        return inserted

    def write_isolating(self, messages: Sequence[Message]) -> tuple[int, int]:
        """Commit a batch that failed once, one message at a time: (inserted, refused).

        Raises if no message at all could be written (the database is down: retry later)."""
        inserted = refused = 0
        errors: list[tuple[Message, Exception]] = []
        for m in messages:
            try:
                inserted += self.commit([m])
            except Exception as exc:
                errors.append((m, exc))
        if errors and len(errors) == len(messages):
            raise errors[0][1]
        for m, err in errors:
            refused += 1
            self.reject("store_refused", f"{m.device}/{m.boot}/{m.seq}: {err}")
        return inserted, refused

    def process(self, items: Sequence[Received], *, isolate: bool = False) -> BatchResult:
        """Validate and commit ``items``; on return every item may be acknowledged."""
        messages, rejected, ignored = self.judge(items)
        if isolate:
            inserted, refused = self.write_isolating(messages)
            rejected += refused
            stream = len(messages) - refused
        else:
            inserted = self.commit(messages) if messages else 0
            stream = len(messages)
        status = sum(1 for m in messages if m.kind == "status")
        stream -= status
        self.metrics.batch_size.observe(len(items))
        now = self.wall()
        for m in messages:
            self.metrics.latency.observe(max(0.0, now - m.ts))
        self.metrics.messages.labels("stored").inc(inserted)
        self.metrics.messages.labels("duplicate").inc(max(0, stream - inserted))
        self.metrics.messages.labels("ignored").inc(ignored)
        self.metrics.messages.labels("status").inc(status)
        return BatchResult(inserted, max(0, stream - inserted), rejected, ignored, messages)
