"""Runs the device loop: audio source -> :class:`~edge.device.pipeline.Pipeline` -> sinks.

All I/O lives here (and in the objects passed in): the source, the cue output, the events
stream, the baseline store, systemd notification and the clock. A WAV source is replayed as fast
as the pipeline runs unless ``realtime`` is set, in which case each block is released when the
injected clock reaches its audio time (``sleep`` is injected too, so tests advance a fake clock).
:meth:`Runner.stop` (from a SIGTERM handler) ends the loop after the current block; the cue is
cleared, the baseline saved and systemd told we are stopping.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from edge.cues.base import CueOutput
from edge.detectors.arbiter import Event
from edge.device.baseline import BaselineStore
from edge.device.pipeline import Pipeline
from edge.device.sdnotify import SdNotifier
from edge.fileio import json_safe
from edge.protocols import AudioSource, Clock
from edge.settings import CueStylesSettings

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
        cue: CueOutput,
        clock: Clock,
        styles: CueStylesSettings | None = None,
        events: TextIO | None = None,
        store: BaselineStore | None = None,
        notifier: SdNotifier | None = None,
        realtime: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        between_blocks: Callable[[float], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.source = source
        self.cue = cue
        self.clock = clock
        self.styles = styles if styles is not None else pipeline.settings.cues.styles
        self.events = events
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
            if self.events is not None:
                self.events.write(event_line(ev) + "\n")
            if ev.kind == "cue" and ev.cue is not None and ev.state is not None:
                self.stats.cues.append((ev.t, ev.cue, ev.state))
                if ev.state == "on":
                    log.info("cue %s on at %.1f s", ev.cue, ev.t)
                    self.cue.show(ev.cue, self.styles.get(ev.cue))
                else:
                    log.info("cue %s off at %.1f s (%s)", ev.cue, ev.t, ev.detail.get("reason"))
                    self.cue.clear()
            elif ev.kind == "baseline" and ev.state == "calibrated":
                log.info("baseline calibrated at %.1f s: %s", ev.t, ev.detail.get("references"))
                self._save()
        if self.events is not None and events:
            self.events.flush()

    def _save(self) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.pipeline.baseline)
        except OSError as exc:
            log.warning("cannot save baseline to %s: %s", self.store.path, exc)

    def run(self) -> RunStats:
        """Process the whole source (or until stopped)."""
        self.notifier.ready("listening")
        start = self.clock.now()
        try:
            for block in self.source.blocks():
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
                self.cue.tick(now)
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
                self.cue.close()
            finally:
                self._save()
                self.source.close()
        return self.stats
