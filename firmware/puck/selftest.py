"""Boot self-test: red, green, blue on the LED, then a short buzz.

Each colour is written and read back from the NeoPixel driver's buffer; a failed write or a
mismatch means the LED path is broken. The result is reported, never fatal: the puck still
serves the protocol (the motor may still work) and counts the failure in STATUS errors.
"""

from puck.hw import Led, Motor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def run_self_test(led: Led, motor: Motor, sleep_ms: "Callable[[int], Any]", step_ms: int,
                  brightness: int, buzz_duty: int) -> bool:
    faults = led.faults
    ok = True
    for rgb in ((brightness, 0, 0), (0, brightness, 0), (0, 0, brightness)):
        led.set(rgb[0], rgb[1], rgb[2])
        try:
            if led.readback() != rgb:
                ok = False
        except Exception:
            ok = False
        sleep_ms(step_ms)
    led.set(0, 0, 0)
    if led.faults != faults:
        ok = False
    motor.set(buzz_duty)
    sleep_ms(step_ms)
    motor.set(0)
    return ok
