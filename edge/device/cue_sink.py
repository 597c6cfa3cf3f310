"""The cue output (GPIO LED and motor, serial puck, terminal) as an event sink.

:class:`CueSink` turns cue events into ``show``/``clear`` calls on a
:class:`~edge.cues.base.CueOutput`. Outputs do I/O (a puck's serial write waits up to
``serial_timeout_s`` for its reply), so the runner wraps this sink in a
:class:`~edge.device.sinks.SupervisedSink`: shows, clears and pattern ticks run on the sink's own
thread, in order, and a slow or dead output never stalls the audio loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from edge.cues.base import CueOutput
from edge.device.events import CueEvent, Event
from edge.settings import CueStyle, CueStylesSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentifyCue:
    """The fleet's ``identify`` blink (``on``) and its end; handed to this sink only (not an
    event of the loop: never counted, logged as a cue or published)."""

    on: bool


IDENTIFY_STYLE = CueStyle("FFFFFF", "blink", "double")
"""How ``identify`` looks: white blink, double buzz."""


class CueSink:
    """Shows the cue that is on, clears it when it goes off."""

    name = "cue"

    def __init__(self, output: CueOutput, styles: CueStylesSettings) -> None:
        self.output = output
        self.styles = styles

    def handle(self, event: Event | IdentifyCue) -> None:
        if isinstance(event, IdentifyCue):
            if event.on:
                self.output.show("identify", IDENTIFY_STYLE)
            else:
                self.output.clear()
            return
        if not isinstance(event, CueEvent):
            return
        if event.state == "on":
            log.info("cue %s on at %.1f s", event.cue, event.t)
            self.output.show(event.cue, self.styles.get(event.cue))
        else:
            log.info("cue %s off at %.1f s (%s)", event.cue, event.t, event.reason)
            self.output.clear()

    def tick(self, now: float) -> None:
        self.output.tick(now)

    def close(self) -> None:
        try:
            self.output.clear()
        finally:
            self.output.close()
