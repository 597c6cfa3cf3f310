"""Event sinks: where the runner sends every event (cue output, events file, publisher, ...).

A sink is anything with ``name``, ``handle(event)`` and ``close()``. ``handle`` is called on the
audio thread, so it must return at once: a sink that does I/O is wrapped in
:class:`SupervisedSink`, which runs the real work on its own thread behind a bounded queue. When
the queue is full the event is dropped and counted (the audio loop never waits); an exception in
the worker is counted and logged (rate-limited), never propagated. ``tick(now)`` lets sinks with
timed output (blinking LEDs) advance; it is also called from the audio thread and must be quick.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO, runtime_checkable

from edge.device.events import CueEvent, Event

log = logging.getLogger(__name__)


@runtime_checkable
class EventSink(Protocol):
    """Receives every event of the device loop."""

    name: str

    def handle(self, event: Event) -> None:
        """Take one event; must not block (see :class:`SupervisedSink`)."""
        ...

    def close(self) -> None:
        """Finish pending work (bounded) and release resources."""
        ...


@dataclass(frozen=True)
class _Tick:
    now: float


@dataclass
class SinkStats:
    """Counters of one sink (published in ``health``)."""

    handled: int = 0
    dropped: int = 0
    """Events not taken because the queue was full."""
    errors: int = 0
    """Events whose handling raised."""


class SupervisedSink:
    """Runs ``inner.handle`` on a worker thread behind a queue of at most ``maxsize`` events."""

    def __init__(
        self,
        inner: EventSink,
        maxsize: int = 1000,
        close_timeout_s: float = 5.0,
        tick: Callable[[float], None] | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.stats = SinkStats()
        self.close_timeout_s = close_timeout_s
        self._tick = tick if tick is not None else getattr(inner, "tick", None)
        self._tick_pending = False
        self._q: queue.Queue[Event | _Tick | None] = queue.Queue(maxsize=maxsize)
        self._warned_drop = False
        self._thread = threading.Thread(target=self._work, name=f"sink-{self.name}", daemon=True)
        self._thread.start()

    def handle(self, event: Event) -> None:
        try:
            self._q.put_nowait(event)
        except queue.Full:
            self.stats.dropped += 1
            if not self._warned_drop or self.stats.dropped % 1000 == 0:
                self._warned_drop = True
                log.warning("sink %s is slow: %d events dropped", self.name, self.stats.dropped)

    def tick(self, now: float) -> None:
        """Ask the worker to call the inner sink's ``tick(now)`` (coalesced: at most one pending,
        so a stalled output does not fill its queue with ticks)."""
        if self._tick is None or self._tick_pending:
            return
        try:
            self._q.put_nowait(_Tick(now))
            self._tick_pending = True
        except queue.Full:
            pass

    def pending(self) -> int:
        return self._q.qsize()

    def _work(self) -> None:
        while True:
            ev = self._q.get()
            try:
                if ev is None:
                    return
                if isinstance(ev, _Tick):
                    self._tick_pending = False
                    assert self._tick is not None
                    self._tick(ev.now)
                    continue
                self.inner.handle(ev)
                self.stats.handled += 1
            except Exception as exc:
                self.stats.errors += 1
                if self.stats.errors <= 5 or self.stats.errors % 100 == 0:
                    log.warning("sink %s failed (%d errors): %s", self.name, self.stats.errors, exc)
            finally:
                self._q.task_done()

    def join(self, timeout_s: float = 5.0) -> bool:
        """Wait (bounded) until every queued event is handled; False on timeout."""
        with self._q.all_tasks_done:
            return self._q.all_tasks_done.wait_for(lambda: self._q.unfinished_tasks == 0, timeout_s)

    def close(self) -> None:
        try:
            self._q.put(None, timeout=self.close_timeout_s)
        except queue.Full:
            log.warning(
                "sink %s: queue still full at close, %d events lost", self.name, self._q.qsize()
            )
        self._thread.join(self.close_timeout_s)
        if self._thread.is_alive():
            log.warning("sink %s did not finish within %.1f s", self.name, self.close_timeout_s)
        try:
            self.inner.close()
        except Exception as exc:
            log.warning("sink %s close failed: %s", self.name, exc)


class JsonLinesSink:
    """Writes each event as one JSON line (the ``--events`` file or stdout)."""

    name = "events"

    def __init__(self, out: TextIO, own: bool = True) -> None:
        self.out = out
        self.own = own

    def handle(self, event: Event) -> None:
        import json

        self.out.write(json.dumps(event.to_json(), allow_nan=False, separators=(",", ":")) + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.own:
            self.out.close()


class RecordingSink:
    """Keeps every event in memory (tests, ``RunStats``)."""

    name = "record"

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    @property
    def cues(self) -> list[CueEvent]:
        return [e for e in self.events if isinstance(e, CueEvent)]
