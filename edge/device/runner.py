"""Runs the device loop: audio source -> :class:`~edge.device.pipeline.Pipeline` -> sinks.

All I/O lives here and in the objects passed in: the source, the event sinks (cue output,
events file, telemetry publisher, ...; each one that does I/O wrapped in a
:class:`~edge.device.sinks.SupervisedSink`), the baseline store, systemd notification and the
clock. Adding a sink touches nothing here. A WAV source is replayed as fast as the pipeline runs
unless ``realtime`` is set, in which case each block is released when the injected clock reaches
its audio time (``sleep`` is injected too, so tests advance a fake clock). :meth:`Runner.stop`
(from a SIGTERM handler) ends the loop after the current block; the sinks are drained and
closed (the cue cleared), the baseline saved and systemd told we are stopping.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from edge.device.baseline import BaselineStore
from edge.device.events import BaselineEvent, CueEvent, Event
from edge.device.pipeline import Pipeline
from edge.device.sdnotify import SdNotifier
from edge.device.sinks import EventSink
from edge.fileio import json_safe
from edge.protocols import AudioSource, Clock

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    """What a run did."""

    blocks: int = 0
    """Audio blocks processed."""
    audio_s: float = 0.0
    """Seconds of audio processed."""
    events: int = 0
    """Events produced."""
    cues: list[tuple[float, str, str]] = field(default_factory=list)
    """(t, cue, state) of every cue event."""
    stopped: bool = False
    """Ended by :meth:`Runner.stop` rather than by the end of the source."""


def event_line(event: Event) -> str:
    """One JSON line (no trailing newline) for ``event``."""
    return json.dumps(json_safe(event.to_json()), allow_nan=False, separators=(",", ":"))


class Runner:
    """Drives one pipeline from one source until the source ends or :meth:`stop` is called."""

    def __init__(
        self,
        pipeline: Pipeline,
        source: AudioSource,
        sinks: Sequence[EventSink],
        clock: Clock,
        store: BaselineStore | None = None,
        notifier: SdNotifier | None = None,
        realtime: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        between_blocks: Callable[[float], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.source = source
        self.sinks = list(sinks)
        self.clock = clock
        self.store = store
        self.notifier = notifier if notifier is not None else SdNotifier({})
        self.realtime = realtime
        self.sleep = sleep
        self.between_blocks = between_blocks
        """Called with the clock time after each block, on the audio thread (fleet actions)."""
        self._stop = False
        self._next_save = pipeline.settings.baseline.save_every_s
        self.stats = RunStats()

    def stop(self) -> None:
        """Ask the loop to end after the current block (safe from a signal handler)."""
        self._stop = True

    def _handle(self, events: list[Event]) -> None:
        for ev in events:
            self.stats.events += 1
            if isinstance(ev, CueEvent):
                self.stats.cues.append((ev.t, ev.cue, ev.state))
            elif isinstance(ev, BaselineEvent) and ev.state == "calibrated":
                log.info("baseline calibrated at %.1f s: %s", ev.t, ev.references)
                self._save()
            for sink in self.sinks:
                sink.handle(ev)

    def inject(self, events: list[Event]) -> None:
        """Hand events made outside :meth:`Pipeline.step` (a sign-in between blocks) to the
        sinks; call only from the audio thread (``between_blocks``)."""
        self._handle(events)

    def _save(self) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.pipeline.baseline)
        except OSError as exc:
            log.warning("cannot save baseline to %s: %s", self.store.path, exc)

    def _tick_sinks(self, now: float) -> None:
        for sink in self.sinks:
            tick = getattr(sink, "tick", None)
            if tick is not None:
                tick(now)

    def run(self) -> RunStats:
        """Process the whole source (or until stopped)."""
        start = self.clock.now()
        ready = False
        try:
            for block in self.source.blocks():
                if not ready:  # READY once the stream delivers audio (the model is loaded)
                    self.notifier.ready("listening")
                    ready = True
                if self._stop:
                    self.stats.stopped = True
                    break
                if self.realtime:
                    wait = start + block.t0 + block.duration_s - self.clock.now()
                    if wait > 0:
                        self.sleep(wait)
                self._handle(self.pipeline.step(block))
                self.stats.blocks += 1
                self.stats.audio_s = block.t0 + block.duration_s
                now = self.clock.now()
                if self.between_blocks is not None:
                    self.between_blocks(now)
                self._tick_sinks(now)
                self.notifier.watchdog(now)
                if self.stats.audio_s >= self._next_save:
                    every = self.pipeline.settings.baseline.save_every_s
                    self._next_save = self.stats.audio_s + every
                    self._save()
            if self._stop:
                self.stats.stopped = True
            self._handle(self.pipeline.flush())
        finally:
            self.notifier.stopping()
            try:
                for sink in self.sinks:
                    try:
                        sink.close()
                    except Exception as exc:  # one broken sink must not keep others open
                        log.warning("closing sink %s failed: %s", sink.name, exc)
            finally:
                self._save()
                self.source.close()
        return self.stats
