"""Cue outputs: GPIO pin sequences on gpiozero's MockFactory against a fake clock, pattern
timing, the terminal LED and the output factory."""

from __future__ import annotations

import io
import itertools

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from edge.cues.base import buzz_active, light_level
from edge.cues.factory import make_cue_output
from edge.cues.gpio import GpioCue
from edge.cues.terminal import TerminalCue
from edge.errors import ConfigError
from edge.protocols import FakeClock
from edge.settings import CueSettings, CueStyle

S = CueSettings(
    brightness=0.5, haptic_strength=0.8, buzz_s=0.2, pulse_period_s=2.0, blink_period_s=1.0
)


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def pins(f, s=S):
    return tuple(
        round(f.pin(p).state, 3) for p in (s.red_pin, s.green_pin, s.blue_pin, s.haptic_pin)
    )


def test_steady_double_buzz_sequence(factory):
    clock = FakeClock(100.0)
    cue = GpioCue(S, clock, pin_factory=factory)
    assert pins(factory) == (0, 0, 0, 0)
    cue.show("monologue", CueStyle("FF8000", "steady", "double"))
    seq = []
    for i in range(8):  # sample mid-way between the 0.1 s steps, off the pattern edges
        clock.set(100.0 + i * 0.1 + 0.05)
        cue.tick(clock.now())
        seq.append(pins(factory))
    # red full*0.5, green 128/255*0.5, blue 0; motor on 0-0.2, off 0.2-0.4, on 0.4-0.6
    led = (0.5, round(128 / 255 * 0.5, 3), 0.0)
    assert [s[:3] for s in seq] == [led] * 8
    assert [s[3] for s in seq] == [0.8, 0.8, 0.0, 0.0, 0.8, 0.8, 0.0, 0.0]
    cue.clear()
    assert pins(factory) == (0, 0, 0, 0)
    cue.close()


def test_pulse_breathes_and_blink_toggles(factory):
    clock = FakeClock()
    cue = GpioCue(S, clock, pin_factory=factory)
    cue.show("pace", CueStyle("00FF00", "pulse", "none"))
    greens = []
    for i in range(21):
        clock.set(i * 0.1)
        cue.tick(clock.now())
        greens.append(factory.pin(S.green_pin).state)
    assert greens[0] == pytest.approx(0.0, abs=1e-6)
    assert greens[10] == pytest.approx(0.5)  # peak mid-period, at brightness
    assert greens[20] == pytest.approx(0.0, abs=1e-6)
    assert all(a < b for a, b in itertools.pairwise(greens[:11]))
    assert factory.pin(S.haptic_pin).state == 0
    cue.show("dead_air", CueStyle("FFFFFF", "blink", "short"))
    start = clock.now()
    states = []
    for i in range(10):
        clock.set(start + i * 0.1 + 0.05)
        cue.tick(clock.now())
        states.append(round(factory.pin(S.red_pin).state, 3))
    assert states == [0.5] * 5 + [0.0] * 5
    cue.close()


def test_common_anode_inverts_pins(factory):
    s = CueSettings(common_anode=True, brightness=1.0)
    cue = GpioCue(s, FakeClock(), pin_factory=factory)
    assert factory.pin(s.red_pin).state == 1  # off = high on a common-anode LED
    cue.show("overtalk", CueStyle("FF0000", "steady", "none"))
    assert factory.pin(s.red_pin).state == 0
    cue.close()


def test_pattern_functions():
    assert light_level("steady", 12.3, S) == 1.0
    assert light_level("blink", 0.49, S) == 1.0 and light_level("blink", 0.5, S) == 0.0
    assert buzz_active("short", 0.19, S) and not buzz_active("short", 0.2, S)
    assert not buzz_active("none", 0.0, S)
    assert [buzz_active("double", t, S) for t in (0.1, 0.3, 0.5, 0.7)] == [True, False, True, False]


def test_terminal_prints_colour_block_and_clear():
    out = io.StringIO()
    cue = TerminalCue(out, colour=True)
    cue.show("pace", CueStyle("FFA000", "pulse", "short"))
    cue.clear()
    cue.clear()  # nothing shown: no second line
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "\x1b[48;2;255;160;0m" in lines[0] and "pace (pulse, short buzz)" in lines[0]
    assert "clear (pace)" in lines[1]


def test_factory_names_and_errors():
    clock = FakeClock()
    assert type(make_cue_output("none", S, clock)).__name__ == "NullCue"
    assert type(make_cue_output("terminal", S, clock)).__name__ == "TerminalCue"
    assert type(make_cue_output("serial:/dev/null", S, clock)).__name__ == "PuckCue"
    with pytest.raises(ConfigError, match="unknown cue output"):
        make_cue_output("lava-lamp", S, clock)
