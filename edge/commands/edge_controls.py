"""What reaches a running ``poise edge run`` between audio blocks: the fleet's or a local
broker's ``cmd`` (identify, recalibrate, sign-in/out, live config) and a long press of the cue
puck's button (a new agent at the desk: sign out, the next speech decides by voice).

Everything arrives on other threads (MQTT, the cue sink) and is only queued there; the runner's
``between_blocks`` hook acts on the audio thread, so the pipeline is never touched concurrently.
"""

from __future__ import annotations

import logging
import queue
from typing import Any

log = logging.getLogger(__name__)


def wire_controls(
    runner: Any,
    pipeline: Any,
    settings: Any,
    store: Any,
    sinks: list[Any],
    fleet: Any,
    control: Any,
) -> None:
    """Set ``runner.between_blocks`` to serve ``fleet`` (or the local ``control``) and the puck's
    button; a no-op when there is neither."""
    cue_sink = next((s for s in sinks if getattr(s, "name", "") == "cue"), None)
    output = getattr(getattr(cue_sink, "inner", None), "output", None)
    presses: queue.SimpleQueue[None] = queue.SimpleQueue()
    if output is not None and hasattr(output, "on_long_press"):
        output.on_long_press = lambda: presses.put(None)
    elif fleet is None and control is None:
        return

    def reset_baseline() -> None:
        pipeline.baseline.reset()
        if not settings.baseline.per_agent:
            store.reset()

    def sign_in(agent: str | None) -> None:
        runner.inject(pipeline.set_agent(agent))

    def between_blocks(now: float) -> None:
        pressed = False
        while True:
            try:
                presses.get_nowait()
            except queue.Empty:
                break
            pressed = True
        if pressed:
            log.info("long press on the cue puck: a new agent at the desk (signed out)")
            sign_in(None)
        if cue_sink is None:
            return
        if fleet is not None:
            fleet.poll(now, cue_sink.handle, reset_baseline, pipeline, cue_sink.inner, sign_in)
        elif control is not None:
            control.poll(now, cue_sink.handle, reset_baseline, sign_in)

    runner.between_blocks = between_blocks
