"""Runs one scripted puck session inside MicroPython (WebAssembly port, driven by driver.mjs).

The firmware's real puck.app.run() is called with fake Ports: a fake tick counter (starting
just below the 2**30 wrap so every session crosses it), a sleep_ms() that advances fake time
and plays the script, a fake polled stdin and a stdout recorder. machine/neopixel are the
fakes beside this file. The session ends by raising SessionEnd (a BaseException, which the
firmware loop deliberately does not catch) once the script is played and stdin drained.

Script steps: {"send": "text"}, {"send_hex": "ff00"}, {"wait": ms}, {"pin": id, "level": 0|1}.
"""

import json
import sys

import fakerec

TICKS_PERIOD = 1 << 30
TICKS_MASK = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD // 2


class SessionEnd(BaseException):
    pass


class Runaway(BaseException):
    """The firmware stopped sleeping (a busy loop): end the session as a crash."""


MAX_POLLS_PER_SLEEP = 1000


class FakeStdin:
    def __init__(self):
        self.queue = bytearray()

    def read(self, n):
        out = bytes(self.queue[:n])
        self.queue = self.queue[n:]
        return out


class FakePoller:
    def __init__(self, session):
        self.session = session

    def poll(self, timeout=-1):
        self.session.polls += 1
        if self.session.polls > MAX_POLLS_PER_SLEEP:
            raise Runaway(f"poll() called {self.session.polls} times without a sleep")
        self.session.loop_started()
        if self.session.stdin.queue:
            return [(self.session.stdin, 1)]
        return []


class Session:
    def __init__(self, steps, start_ticks):
        self.steps = steps
        self.index = 0
        self.now = 0
        self.start_ticks = start_ticks
        self.resume_at = 0
        self.started = False
        self.stdin = FakeStdin()
        self.poller = FakePoller(self)
        self.polls = 0

    def ticks_ms(self):
        return (self.start_ticks + self.now) & TICKS_MASK

    def ticks_diff(self, a, b):
        return ((a - b + TICKS_HALF) & TICKS_MASK) - TICKS_HALF

    def sleep_ms(self, ms):
        self.polls = 0
        self.now += ms
        if self.started:
            self.play()

    def write(self, text):
        fakerec.record("tx", text=text)

    def kbd_intr(self, ch):
        fakerec.record("kbd_intr", ch=ch)

    def loop_started(self):
        if not self.started:
            self.started = True
            fakerec.record("loop")
            self.play()

    def play(self):
        while self.index < len(self.steps) and self.now >= self.resume_at:
            step = self.steps[self.index]
            self.index += 1
            if "send" in step:
                data = step["send"].encode()
                fakerec.record("rx", hex=hexlify(data))
                self.stdin.queue.extend(data)
            elif "send_hex" in step:
                data = unhexlify(step["send_hex"])
                fakerec.record("rx", hex=step["send_hex"])
                self.stdin.queue.extend(data)
            elif "pin" in step:  # the outside world drives an input pin (a button)
                fakerec.pin_levels[step["pin"]] = step["level"]
                fakerec.record("pin_level", pin=step["pin"], level=step["level"])
            elif "wait" in step:
                self.resume_at = self.now + step["wait"]
        done = self.index >= len(self.steps) and self.now >= self.resume_at
        if done and not self.stdin.queue:
            raise SessionEnd()


def hexlify(data):
    return "".join(f"{b:02x}" for b in data)


def unhexlify(text):
    return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))


def run_session(spec_json):
    spec = json.loads(spec_json)
    session = Session(spec.get("script", []), spec.get("start_ticks", TICKS_PERIOD - 300))
    fakerec.clock = lambda: session.now
    fakerec.neopixel_fails = spec.get("neopixel_fails", False)

    from puck import config
    from puck.app import Ports, run

    for key, value in spec.get("config", {}).items():
        setattr(config, key, value)
    ports = Ports(
        session.ticks_ms,
        session.ticks_diff,
        session.sleep_ms,
        session.poller,
        session.stdin,
        session.write,
        session.kbd_intr,
    )
    outcome = "returned"
    error = None
    try:
        run(ports, config)
    except SessionEnd:
        outcome = "session-end"
    except BaseException as exc:  # report, never hide, a firmware crash
        outcome = "crash"
        error = repr(exc)
        sys.print_exception(exc)  # type: ignore[attr-defined]  # MicroPython only
    import machine

    timer = machine.Timer.last
    feeds_before = len(fakerec.wdt_feeds)
    if timer is not None:
        timer.callback(timer)  # what the maintenance timer does when it fires
    with open("/fw/main.py") as source:
        compile(source.read(), "main.py", "exec")  # main.py itself is MicroPython-valid
    return json.dumps(
        {
            "outcome": outcome,
            "error": error,
            "end": session.now,
            "events": fakerec.events,
            "wdt_feeds": fakerec.wdt_feeds,
            "timer_fed": timer is not None and len(fakerec.wdt_feeds) > feeds_before,
            "stdin_left": hexlify(session.stdin.queue),
        }
    )
