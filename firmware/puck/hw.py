"""The puck's hardware: WS2812 (NeoPixel) LED, haptic motor on PWM, button, watchdog, unique id.

Pins come from the caller (config.py), nothing is hard-wired. Led and Motor only touch the
hardware when the value changes, so the main loop can call set() every step.
"""

import machine
import neopixel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional, Tuple

WDT_MAX_MS = 8388  # RP2040 hardware limit


class Led:
    """Never raises: a failed write is counted in `faults` (and not retried for that colour)."""

    def __init__(self, pixels: "neopixel.NeoPixel", count: int) -> None:
        self._pixels = pixels
        self._count = count
        self._last: "Optional[Tuple[int, int, int]]" = None
        self.faults = 0

    def set(self, r: int, g: int, b: int) -> None:
        rgb = (r, g, b)
        if rgb == self._last:
            return
        self._last = rgb
        try:
            for i in range(self._count):
                self._pixels[i] = rgb
            self._pixels.write()
        except Exception:
            self.faults += 1

    def readback(self) -> "Tuple[int, int, int]":
        """Colour held in the driver's buffer for pixel 0 (what the last write sent)."""
        r, g, b = self._pixels[0][:3]
        return (r, g, b)


class Motor:
    def __init__(self, pwm: "machine.PWM") -> None:
        self._pwm = pwm
        self._duty = -1

    def set(self, duty: int) -> None:
        if duty != self._duty:
            self._pwm.duty_u16(duty)
            self._duty = duty


def build_led(pin: int, count: int) -> Led:
    return Led(neopixel.NeoPixel(machine.Pin(pin, machine.Pin.OUT), count), count)


def build_motor(pin: int, freq_hz: int) -> Motor:
    pwm = machine.PWM(machine.Pin(pin, machine.Pin.OUT))
    pwm.freq(freq_hz)
    motor = Motor(pwm)
    motor.set(0)
    return motor


def build_button(pin: int) -> "Callable[[], bool]":
    """A push button from `pin` to GND, read through the internal pull-up: True while pressed."""
    button = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)

    def pressed() -> bool:
        return button.value() == 0

    return pressed


def start_watchdog(timeout_ms: int) -> "machine.WDT":
    return machine.WDT(timeout=min(timeout_ms, WDT_MAX_MS))


def feed_from_timer(wdt: "machine.WDT", period_ms: int = 1000) -> "machine.Timer":
    """Keep feeding `wdt` from a timer interrupt (maintenance REPL: the RP2040 watchdog
    cannot be stopped once started)."""

    def feed(_timer: "machine.Timer") -> None:
        wdt.feed()

    return machine.Timer(-1, mode=machine.Timer.PERIODIC, period=period_ms, callback=feed)


def unique_id_hex() -> str:
    uid = machine.unique_id()
    return "".join("%02x" % b for b in uid)
