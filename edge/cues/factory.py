"""Build a cue output from ``--cue``: ``gpio``, ``serial:PORT``, ``terminal`` or ``none``."""

from __future__ import annotations

import logging

from edge.cues.base import CueOutput, NullCue
from edge.errors import ConfigError
from edge.protocols import Clock
from edge.settings import CueSettings

log = logging.getLogger(__name__)


def make_cue_output(spec: str, settings: CueSettings, clock: Clock) -> CueOutput:
    """The output named by ``spec``; a ConfigError names what is wrong."""
    if spec == "none":
        return NullCue()
    if spec == "terminal":
        from edge.cues.terminal import TerminalCue

        return TerminalCue()
    if spec == "gpio":
        from edge.cues.gpio import GpioCue
        from edge.cues.pins import board_model, make_pin_factory, resolve_pin_factory

        driver = resolve_pin_factory(settings.pin_factory, board_model())
        factory = make_pin_factory(driver)
        log.info("GPIO cue: pin driver %s", driver or "gpiozero default")
        try:
            return GpioCue(settings, clock, pin_factory=factory)
        except Exception as exc:  # gpiozero raises many kinds when there is no GPIO
            raise ConfigError(
                f"cannot use GPIO cues ({type(exc).__name__}: {exc}); "
                "use --cue terminal, serial:PORT or none off the Pi"
            ) from None
    if spec.startswith("serial:") and len(spec) > len("serial:"):
        from edge.cues.puck import PuckCue

        return PuckCue(spec.split(":", 1)[1], settings, clock)
    raise ConfigError(f"unknown cue output {spec!r} (gpio, serial:PORT, terminal or none)")
