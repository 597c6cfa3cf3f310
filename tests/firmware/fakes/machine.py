"""Fake `machine` module for the MicroPython WebAssembly port: records instead of driving
hardware (runs inside MicroPython, not CPython)."""

import fakerec

UNIQUE_ID = b"\xe6\x61\x41\x04\x03\x2a\x7b\x2c"


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self._value = 0 if value is None else value
        fakerec.record("pin", pin=id, mode=mode, pull=pull)

    def value(self, v=None):
        if v is None:
            if self.mode == Pin.IN:  # the level the script put on the pin, else the pull's
                return fakerec.pin_levels.get(self.id, 1 if self.pull == Pin.PULL_UP else 0)
            return self._value
        self._value = 1 if v else 0
        return None


class PWM:
    def __init__(self, pin, freq=None, duty_u16=None):
        self.pin = pin
        self._freq = 0
        self._duty = 0
        fakerec.record("pwm_new", pin=pin.id)
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

    def freq(self, hz=None):
        if hz is None:
            return self._freq
        self._freq = hz
        fakerec.record("pwm_freq", pin=self.pin.id, hz=hz)
        return None

    def duty_u16(self, duty=None):
        if duty is None:
            return self._duty
        if not 0 <= duty <= 65535:
            raise ValueError("duty out of range")
        self._duty = duty
        fakerec.record("duty", pin=self.pin.id, duty=duty)
        return None

    def deinit(self):
        fakerec.record("pwm_deinit", pin=self.pin.id)


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout > 8388:
            raise ValueError("rp2 WDT timeout above 8388 ms")
        self.timeout = timeout
        fakerec.record("wdt_start", timeout=timeout)

    def feed(self):
        fakerec.wdt_feeds.append(fakerec.now())


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1
    last = None

    def __init__(self, id=-1, mode=PERIODIC, period=-1, callback=None, freq=-1):
        self.mode = mode
        self.period = period
        self.callback = callback
        Timer.last = self
        fakerec.record("timer", mode=mode, period=period)

    def deinit(self):
        fakerec.record("timer_deinit")


def unique_id():
    return UNIQUE_ID


def reset():
    fakerec.record("reset")
    raise SystemExit("machine.reset()")
