"""Pattern engine: what the LED and the motor show at a given millisecond.

Pure logic: it drives an injected `led` (set(r, g, b)) and `motor` (set(duty_u16)) from
tick(now_ms), where now_ms is a monotonic millisecond count (see clock.py). Patterns:

- steady: the colour, constant;
- pulse: brightness ramps linearly down to PULSE_FLOOR/255 and back up over PULSE_PERIOD_MS;
- blink: BLINK_HALF_MS on, BLINK_HALF_MS off.

Buzzes: short = one BUZZ_SHORT_MS pulse; double = BUZZ_DOUBLE_ON_MS on, BUZZ_DOUBLE_GAP_MS off,
BUZZ_DOUBLE_ON_MS on. IDENTIFY overlays IDENTIFY_BLINKS white blinks (IDENTIFY_HALF_MS on/off)
and then returns to the current cue. Colours are scaled so that no channel exceeds
max_brightness.

Host lost (host_lost()): the cue is cleared and the LED shows a pattern no cue uses: a dim amber
double flash (HOST_LOST_FLASH_MS on, HOST_LOST_GAP_MS off, HOST_LOST_FLASH_MS on) every
HOST_LOST_PERIOD_MS, motor off, until the host speaks again (show() or clear()).
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Protocol, Tuple

    class LedLike(Protocol):
        def set(self, r: int, g: int, b: int) -> None: ...

    class MotorLike(Protocol):
        def set(self, duty: int) -> None: ...


PATTERNS = ("steady", "pulse", "blink")
BUZZES = ("none", "short", "double")

PULSE_PERIOD_MS = 1200
PULSE_FLOOR = 40
BLINK_HALF_MS = 500
BUZZ_SHORT_MS = 150
BUZZ_DOUBLE_ON_MS = 120
BUZZ_DOUBLE_GAP_MS = 100
IDENTIFY_BLINKS = 3
IDENTIFY_HALF_MS = 250

HOST_LOST_RGB = (255, 80, 0)
HOST_LOST_LEVEL = 96
HOST_LOST_PERIOD_MS = 2000
HOST_LOST_FLASH_MS = 100
HOST_LOST_GAP_MS = 150

WHITE = (255, 255, 255)
OFF = (0, 0, 0)


def buzz_segments(buzz: str) -> "Tuple[Tuple[int, bool], ...]":
    """(duration_ms, motor_on) steps of a buzz."""
    if buzz == "short":
        return ((BUZZ_SHORT_MS, True),)
    if buzz == "double":
        return ((BUZZ_DOUBLE_ON_MS, True), (BUZZ_DOUBLE_GAP_MS, False), (BUZZ_DOUBLE_ON_MS, True))
    return ()


def pattern_level(pattern: str, elapsed_ms: int) -> int:
    """Brightness 0..255 of `pattern` elapsed_ms after the cue started."""
    if pattern == "blink":
        return 255 if (elapsed_ms // BLINK_HALF_MS) % 2 == 0 else 0
    if pattern == "pulse":
        half = PULSE_PERIOD_MS // 2
        phase = elapsed_ms % PULSE_PERIOD_MS
        distance = phase if phase < half else PULSE_PERIOD_MS - phase  # 0..half
        return 255 - (255 - PULSE_FLOOR) * distance // half
    return 255


def scale(rgb: "Tuple[int, int, int]", level: int, max_brightness: int) -> "Tuple[int, int, int]":
    k = level * max_brightness
    return (rgb[0] * k // 65025, rgb[1] * k // 65025, rgb[2] * k // 65025)


class CueEngine:
    def __init__(self, led: "LedLike", motor: "MotorLike", max_brightness: int = 255,
                 buzz_duty: int = 49152) -> None:
        self._led = led
        self._motor = motor
        self._max = max_brightness
        self._duty = buzz_duty
        self.name: "Optional[str]" = None
        self._rgb = OFF
        self._pattern = "steady"
        self._started = 0
        self._buzz: "Tuple[Tuple[int, bool], ...]" = ()
        self._buzz_started = 0
        self._identify_started: "Optional[int]" = None
        self._lost_started: "Optional[int]" = None

    @property
    def lost(self) -> bool:
        """True while the host-lost pattern is shown."""
        return self._lost_started is not None

    def host_lost(self, now_ms: int) -> None:
        """No word from the host: drop the cue, show the host-lost pattern."""
        self.clear()
        self._lost_started = now_ms
        self.tick(now_ms)

    def show(self, name: str, rgb: "Tuple[int, int, int]", pattern: str, buzz: str,
             now_ms: int) -> None:
        self._lost_started = None
        self.name = name
        self._rgb = rgb
        self._pattern = pattern
        self._started = now_ms
        self._buzz = buzz_segments(buzz)
        self._buzz_started = now_ms
        self.tick(now_ms)

    def identify(self, now_ms: int) -> None:
        self._identify_started = now_ms
        self.tick(now_ms)

    def clear(self) -> None:
        self.name = None
        self._rgb = OFF
        self._buzz = ()
        self._identify_started = None
        self._lost_started = None
        self._led.set(0, 0, 0)
        self._motor.set(0)

    def tick(self, now_ms: int) -> None:
        r, g, b = self._colour_at(now_ms)
        self._led.set(r, g, b)
        self._motor.set(self._duty if self._motor_on_at(now_ms) else 0)

    def _colour_at(self, now_ms: int) -> "Tuple[int, int, int]":
        if self._identify_started is not None:
            elapsed = now_ms - self._identify_started
            if elapsed < 2 * IDENTIFY_BLINKS * IDENTIFY_HALF_MS:
                on = (elapsed // IDENTIFY_HALF_MS) % 2 == 0
                return scale(WHITE, 255, self._max) if on else OFF
            self._identify_started = None
        if self._lost_started is not None:
            phase = (now_ms - self._lost_started) % HOST_LOST_PERIOD_MS
            flash = HOST_LOST_FLASH_MS
            on = phase < flash or flash + HOST_LOST_GAP_MS <= phase < 2 * flash + HOST_LOST_GAP_MS
            return scale(HOST_LOST_RGB, HOST_LOST_LEVEL, self._max) if on else OFF
        if self.name is None:
            return OFF
        return scale(self._rgb, pattern_level(self._pattern, now_ms - self._started), self._max)

    def _motor_on_at(self, now_ms: int) -> bool:
        elapsed = now_ms - self._buzz_started
        for duration, on in self._buzz:
            if elapsed < duration:
                return on
            elapsed -= duration
        self._buzz = ()
        return False
