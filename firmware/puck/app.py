"""The puck's main program: self-test, watchdog, then the serial protocol loop.

Every I/O function the loop needs arrives in a Ports object (main.py passes the real ones;
the tests pass fakes and a fake clock). Each loop step feeds the watchdog, reads what is
waiting on USB serial without blocking, answers complete lines, samples the button (a long
press is counted and acknowledged with the identify blink; the host reads the count from the
PING reply), advances the cue patterns and sleeps LOOP_PERIOD_MS. A fault inside a step is
counted (STATUS errors) and the loop goes on; only a Ctrl-C byte leaves it (maintenance, see
leave_for_repl()).

Keepalive: once the host has sent its first line, any line counts as a sign of life (the host
sends PING every 2 s while idle). When none arrives for HOST_LOST_MS (config) the cue is cleared
and the host-lost pattern shows (cues.py) until the host speaks again, so a cue never stays on
for ever after the Pi died or the cable came out.
"""

from puck import hw
from puck.button import LongPress
from puck.clock import MonotonicClock
from puck.cues import CueEngine
from puck.linebuf import TOO_LONG, LineBuffer
from puck.protocol import LineProtocol
from puck.selftest import run_self_test
from puck.serialio import CTRL_C, SerialReader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from puck.serialio import ByteStream, Poller


class Ports:
    """The outside world of the loop: ticks, sleep, serial in/out, Ctrl-C control."""

    def __init__(self, ticks_ms: "Callable[[], Any]", ticks_diff: "Callable[[Any, Any], int]",
                 sleep_ms: "Callable[[int], Any]", poller: "Poller", stdin: "ByteStream",
                 write: "Callable[[str], Any]", kbd_intr: "Callable[[int], Any]") -> None:
        self.ticks_ms = ticks_ms
        self.ticks_diff = ticks_diff
        self.sleep_ms = sleep_ms
        self.poller = poller
        self.stdin = stdin
        self.write = write
        self.kbd_intr = kbd_intr


class Puck:
    """One running puck: bytes in, replies out, cues ticking."""

    def __init__(self, engine: CueEngine, protocol: LineProtocol,
                 write: "Callable[[str], Any]", host_lost_ms: int = 10000) -> None:
        self.engine = engine
        self.protocol = protocol
        self._write = write
        self._lines = LineBuffer()
        self._host_lost_ms = host_lost_ms
        self._last_line: "Any" = None  # now_ms of the host's last line; None before the first

    def check_host(self, now_ms: int) -> None:
        """Show the host-lost pattern when the host has been silent too long."""
        if self._last_line is None or self.engine.lost:
            return
        if now_ms - self._last_line >= self._host_lost_ms:
            self.engine.host_lost(now_ms)

    def receive(self, data: bytes, now_ms: int) -> None:
        for kind, line in self._lines.feed(data):
            self._last_line = now_ms
            if self.engine.lost:
                self.engine.clear()  # the host is back; it resends its cue
            if kind == TOO_LONG:
                reply = self.protocol.too_long()
            else:
                try:
                    reply = self.protocol.handle(line, now_ms)
                except Exception:  # a fault below the parser: still exactly one reply
                    self.protocol.add_error()
                    reply = "ERR internal"
            self._write(reply + "\n")


def run(ports: Ports, cfg: "Any") -> None:
    """Boot and serve forever; returns only for the maintenance REPL."""
    clock = MonotonicClock(ports.ticks_ms, ports.ticks_diff)
    led = hw.build_led(cfg.NEOPIXEL_PIN, cfg.NEOPIXEL_COUNT)
    motor = hw.build_motor(cfg.MOTOR_PIN, cfg.MOTOR_PWM_HZ)
    led_ok = run_self_test(led, motor, ports.sleep_ms, cfg.SELFTEST_STEP_MS, cfg.MAX_BRIGHTNESS,
                           cfg.MOTOR_DUTY)
    engine = CueEngine(led, motor, cfg.MAX_BRIGHTNESS, cfg.MOTOR_DUTY)
    button = None
    presses = LongPress(getattr(cfg, "LONG_PRESS_MS", 2000))
    if getattr(cfg, "BUTTON_PIN", None) is not None:
        button = hw.build_button(cfg.BUTTON_PIN)
    protocol = LineProtocol(engine, hw.unique_id_hex(), presses if button is not None else None)
    if not led_ok:
        protocol.add_error()
    led_faults = led.faults
    puck = Puck(engine, protocol, ports.write, getattr(cfg, "HOST_LOST_MS", 10000))
    reader = SerialReader(ports.poller, ports.stdin, cfg.MAX_READ_PER_STEP)
    ports.kbd_intr(-1)  # Ctrl-C is data from here on (handled below), not KeyboardInterrupt
    wdt = hw.start_watchdog(cfg.WDT_TIMEOUT_MS)
    while True:
        wdt.feed()
        try:
            now = clock.now_ms()
            data = reader.read()
            stop = data.find(bytes((CTRL_C,)))
            if stop >= 0:
                puck.receive(data[:stop], now)
                leave_for_repl(engine, wdt, ports)
                return
            if data:
                puck.receive(data, now)
            if button is not None and presses.update(button(), now):
                engine.identify(now)  # the agent sees the long press was taken
            puck.check_host(now)
            engine.tick(now)
        except Exception:
            protocol.add_error()
        if led.faults != led_faults:  # failed LED writes count as errors too
            protocol.errors += led.faults - led_faults
            led_faults = led.faults
        ports.sleep_ms(cfg.LOOP_PERIOD_MS)


def leave_for_repl(engine: CueEngine, wdt: "Any", ports: Ports) -> None:
    """A Ctrl-C byte (mpremote's way in) ends the loop: LED and motor off, the watchdog fed by
    a timer from now on, Ctrl-C re-enabled; main.py then returns to the REPL. The bytes after
    the Ctrl-C are left unread for the REPL."""
    engine.clear()
    hw.feed_from_timer(wdt)
    ports.kbd_intr(CTRL_C)
