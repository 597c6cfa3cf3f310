"""Cue settings of the device (``[cues]``): where cues are shown (GPIO LED and motor, the serial
puck, the terminal) and how each cue type looks and feels (colour, pattern, buzz)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from edge.settings.detectors import DETECTOR_NAMES

Pattern = Literal["steady", "pulse", "blink"]
Buzz = Literal["none", "short", "double"]
PinFactory = Literal["auto", "lgpio", "rpigpio", "pigpio", "native", "mock"]
_COLOUR = re.compile(r"^[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class CueStyle:
    """How one cue type looks and feels."""

    colour: str = "FFFFFF"
    """LED colour as six hex digits RRGGBB."""
    pattern: Pattern = "steady"
    """``steady``, ``pulse`` (slow breathing) or ``blink``."""
    buzz: Buzz = "none"
    """Haptic: ``none``, ``short`` or ``double``."""

    def __post_init__(self) -> None:
        if not _COLOUR.match(self.colour):
            raise ValueError(f"colour {self.colour!r} is not six hex digits RRGGBB")

    @property
    def rgb(self) -> tuple[float, float, float]:
        """The colour as three floats 0..1."""
        v = int(self.colour, 16)
        return ((v >> 16 & 255) / 255.0, (v >> 8 & 255) / 255.0, (v & 255) / 255.0)


@dataclass(frozen=True)
class CueStylesSettings:
    """One style per cue type."""

    pace: CueStyle = CueStyle("FFA000", "pulse", "none")
    """Amber pulse."""
    stress: CueStyle = CueStyle("8000FF", "pulse", "none")
    """Violet pulse."""
    flat: CueStyle = CueStyle("00A0FF", "pulse", "none")
    """Light-blue pulse."""
    overtalk: CueStyle = CueStyle("FF2000", "steady", "short")
    """Red, one short buzz."""
    monologue: CueStyle = CueStyle("FFFF00", "steady", "double")
    """Yellow, double buzz."""
    dead_air: CueStyle = CueStyle("FFFFFF", "blink", "none")
    """White blink."""
    empathy: CueStyle = CueStyle("00FF60", "pulse", "short")
    """Green pulse, one short buzz."""

    def get(self, name: str) -> CueStyle:
        if name not in DETECTOR_NAMES:
            raise KeyError(name)
        value: CueStyle = getattr(self, name)
        return value


@dataclass(frozen=True)
class CueSettings:
    """Where and how cues are shown."""

    output: str = "gpio"
    """``gpio``, ``serial:/dev/ttyACM0``, ``terminal`` or ``none``."""
    red_pin: int = 17
    """GPIO (BCM) of the RGB LED's red channel."""
    green_pin: int = 27
    """GPIO (BCM) of the green channel."""
    blue_pin: int = 22
    """GPIO (BCM) of the blue channel."""
    common_anode: bool = False
    """True for a common-anode RGB LED (channels active low)."""
    haptic_pin: int = 18
    """GPIO (BCM) driving the vibration motor's transistor (PWM)."""
    brightness: float = 0.35
    """Peak LED brightness 0..1 (calm, not a beacon)."""
    haptic_strength: float = 0.6
    """PWM duty of the motor while buzzing, 0..1."""
    buzz_s: float = 0.15
    """Length of one buzz; a double buzz is buzz, gap of the same length, buzz."""
    pulse_period_s: float = 2.0
    """Period of the ``pulse`` breathing pattern."""
    blink_period_s: float = 1.0
    """Period of the ``blink`` pattern (half on, half off)."""
    serial_timeout_s: float = 0.5
    """How long to wait for the puck's OK/ERR reply."""
    puck_keepalive_s: float = 2.0
    """Seconds between keepalives (``PING``) sent to the cue puck. The puck clears any cue and
    shows its "host lost" pattern when none arrives for its ``HOST_LOST_S`` (10 s)."""
    pin_factory: PinFactory = "auto"
    """gpiozero pin driver for the GPIO cue: ``lgpio`` (Raspberry Pi OS Bookworm/Trixie, the
    ``python3-lgpio`` / ``lgpio`` package), ``rpigpio``, ``pigpio``, ``native`` or ``mock``.
    ``auto``: ``lgpio`` on a Raspberry Pi, gpiozero's own choice elsewhere."""
    styles: CueStylesSettings = field(default_factory=CueStylesSettings)
    """Colour, pattern and buzz per cue type."""

    def __post_init__(self) -> None:
        for name in ("brightness", "haptic_strength"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")
        timings = (self.buzz_s, self.pulse_period_s, self.blink_period_s, self.serial_timeout_s)
        if min(timings) <= 0:
            raise ValueError("cue timings must be positive")
        if not 0.5 <= self.puck_keepalive_s <= 5.0:
            raise ValueError("puck_keepalive_s must be within 0.5..5 (the puck gives up at 10 s)")
