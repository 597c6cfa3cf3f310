"""Cues on the Pi's GPIO: an RGB LED (PWM) and a vibration motor through a transistor (PWM).

Pattern timing comes from ``tick(now)`` with the injected clock (no gpiozero background threads),
so tests drive it with a fake clock and ``MockFactory(pin_class=MockPWMPin)``.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.cues.base import buzz_active, light_level
from edge.protocols import Clock
from edge.settings import CueSettings, CueStyle

log = logging.getLogger(__name__)


class GpioCue:
    """RGB LED + haptic motor via gpiozero."""

    def __init__(self, settings: CueSettings, clock: Clock, pin_factory: Any = None) -> None:
        from gpiozero import RGBLED, PWMOutputDevice

        self.settings = settings
        self.clock = clock
        self.led = RGBLED(
            settings.red_pin,
            settings.green_pin,
            settings.blue_pin,
            active_high=not settings.common_anode,
            pwm=True,
            pin_factory=pin_factory,
        )
        self.motor = PWMOutputDevice(settings.haptic_pin, pin_factory=pin_factory)
        self._style: CueStyle | None = None
        self._since = 0.0
        self.led.off()
        self.motor.off()

    def show(self, cue: str, style: CueStyle) -> None:
        self._style = style
        self._since = self.clock.now()
        log.debug("gpio cue %s %s", cue, style)
        self.tick(self._since)

    def clear(self) -> None:
        self._style = None
        self.led.off()
        self.motor.off()

    def tick(self, now: float) -> None:
        style = self._style
        if style is None:
            return
        elapsed = now - self._since
        level = light_level(style.pattern, elapsed, self.settings) * self.settings.brightness
        r, g, b = style.rgb
        self.led.color = (r * level, g * level, b * level)
        on = buzz_active(style.buzz, elapsed, self.settings)
        self.motor.value = self.settings.haptic_strength if on else 0.0

    def close(self) -> None:
        try:
            self.clear()
        finally:
            self.led.close()
            self.motor.close()
