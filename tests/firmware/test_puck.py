"""The cue-puck firmware on real MicroPython (the WebAssembly port, run under node).

Every scenario (scenarios.py) is a scripted session (see fakes/harness.py): the firmware's own
puck.app.run() boots (self-test, watchdog) and serves the protocol, with fake machine/neopixel
modules recording every LED write, PWM duty and watchdog feed against a fake millisecond clock.
All sessions run in one node process (a fresh interpreter each), once per test module.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .scenarios import NOISE, SCENARIOS, Session

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NODE_PACKAGE = HERE / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"

# Mirrors firmware/puck/config.py and cues.py (the tests fail loudly if those change).
BRIGHT = 96
DUTY = 49152
LOOP_MS = 10
STEP_MS = 200
UID = "e6614104032a7b2c"  # fakes/machine.py UNIQUE_ID

Event = dict[str, Any]


def scaled(rgb: tuple[int, int, int], level: int = 255) -> list[int]:
    return [c * level * BRIGHT // 65025 for c in rgb]


@pytest.fixture(scope="module")
def sessions() -> dict[str, Session]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the firmware tests run MicroPython's WASM port on it")
    if not NODE_PACKAGE.is_dir():
        pytest.fail(
            "MicroPython WASM port missing: run `make test` or `npm ci --prefix tests/firmware`"
        )
    request = {
        "firmware": str(REPO / "firmware"),
        "fakes": str(HERE / "fakes"),
        "sessions": list(SCENARIOS.values()),
    }
    proc = subprocess.run(
        [node, str(HERE / "driver.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    return dict(zip(SCENARIOS, results, strict=True))


def run(sessions: dict[str, Session], name: str, outcome: str = "session-end") -> Session:
    result = sessions[name]
    assert result["outcome"] == outcome, (result.get("error"), result.get("log"))
    return result


def loop_start(result: Session) -> int:
    return next(e["t"] for e in result["events"] if e["ev"] == "loop")


def replies(result: Session) -> list[tuple[int, str]]:
    """(time, line) of every reply line the puck wrote."""
    out: list[tuple[int, str]] = []
    for event in result["events"]:
        if event["ev"] == "tx":
            assert event["text"].endswith("\n") and event["text"].count("\n") == 1
            out.append((event["t"], event["text"][:-1]))
    return out


def texts(result: Session) -> list[str]:
    return [line for _, line in replies(result)]


def boot_events(result: Session) -> list[Event]:
    """Events before the first loop step (self-test, watchdog start)."""
    events = result["events"]
    return events[: next(i for i, e in enumerate(events) if e["ev"] == "loop")]


def since_loop(result: Session, kind: str, key: str) -> list[tuple[int, Any]]:
    """(time since the first loop step, value) of `kind` events recorded in the loop."""
    t0 = loop_start(result)
    loop = result["events"][len(boot_events(result)) :]
    return [(e["t"] - t0, e[key]) for e in loop if e["ev"] == kind]


def pixels(result: Session) -> list[tuple[int, list[int]]]:
    return since_loop(result, "px", "rgb")


def duties(result: Session) -> list[tuple[int, int]]:
    return since_loop(result, "duty", "duty")


def test_every_command_is_answered(sessions: dict[str, Session]) -> None:
    assert texts(run(sessions, "commands")) == [
        "OK PONG 0",
        "OK VERSION poise-puck 1.2.0 proto 1",
        "OK STATUS none 0 0",
        f"OK IDENTIFY {UID}",
        "OK",
        "OK STATUS pace 2 0",
        "OK",
        "OK STATUS none 2 0",
    ]


def test_steady_cue_sets_colour_once_and_keeps_it(sessions: dict[str, Session]) -> None:
    result = run(sessions, "steady")
    assert pixels(result) == [(0, scaled((0, 255, 0)))]
    assert duties(result) == []  # motor stayed off (0 since boot)


def test_pulse_varies_brightness_periodically(sessions: dict[str, Session]) -> None:
    result = run(sessions, "pulse")
    px = pixels(result)
    assert px[0] == (0, scaled((255, 0, 0)))
    reds = [rgb[0] for _, rgb in px]
    assert all(rgb[1] == 0 and rgb[2] == 0 for _, rgb in px)
    assert max(reds) == scaled((255, 0, 0))[0]
    assert min(reds) == scaled((255, 0, 0), 40)[0]  # PULSE_FLOOR at half period
    assert len(set(reds)) > 20
    by_time = dict(px)
    trough = max(t for t, rgb in px if t <= 600)
    assert by_time[trough][0] == min(reds) and 590 <= trough <= 600
    # periodic: back at full brightness after one 1200 ms period
    assert [rgb for t, rgb in px if t == 1200] == [scaled((255, 0, 0))]


def test_blink_toggles_every_500_ms(sessions: dict[str, Session]) -> None:
    on, off = scaled((0, 0, 255)), [0, 0, 0]
    assert pixels(run(sessions, "blink")) == [
        (0, on),
        (500, off),
        (1000, on),
        (1500, off),
        (2000, on),
    ]


def test_short_buzz_duty_sequence(sessions: dict[str, Session]) -> None:
    assert duties(run(sessions, "short")) == [(0, DUTY), (150, 0)]


def test_double_buzz_duty_sequence(sessions: dict[str, Session]) -> None:
    assert duties(run(sessions, "double")) == [(0, DUTY), (120, 0), (220, DUTY), (340, 0)]


def test_clear_turns_led_and_motor_off(sessions: dict[str, Session]) -> None:
    result = run(sessions, "clear")
    assert texts(result) == ["OK", "OK"]
    clear_at = replies(result)[1][0] - loop_start(result)
    assert clear_at == 60
    assert pixels(result) == [(0, scaled((255, 0, 255))), (60, [0, 0, 0])]
    assert duties(result) == [(0, DUTY), (60, 0)]  # cut mid-buzz, no second pulse


def test_identify_blinks_white_three_times_then_restores_cue(
    sessions: dict[str, Session],
) -> None:
    result = run(sessions, "identify")
    white, cue, off = scaled((255, 255, 255)), scaled((0, 255, 255)), [0, 0, 0]
    assert texts(result) == ["OK", f"OK IDENTIFY {UID}"]
    assert pixels(result) == [
        (0, cue),
        (100, white),
        (350, off),
        (600, white),
        (850, off),
        (1100, white),
        (1350, off),
        (1600, cue),
    ]


def test_bad_input_gets_err_and_the_loop_keeps_running(sessions: dict[str, Session]) -> None:
    result = run(sessions, "errors")
    assert texts(result) == [
        "ERR empty",
        "ERR empty",
        "ERR unknown-command FOO",
        "ERR unknown-command ping",
        "ERR bad-utf8",
        "ERR bad-utf8",
        "ERR bad-utf8",
        "ERR unknown-command CAF?",
        "ERR bad-args no-arguments-expected",
        "ERR bad-args spacing",
        "ERR bad-args spacing",
        "ERR bad-args expected-name-colour-pattern-buzz",
        "ERR bad-args name",
        "ERR bad-args name",
        "ERR bad-args colour",
        "ERR bad-args colour",
        "ERR bad-args pattern",
        "ERR bad-args buzz",
        "ERR bad-args spacing",
        "OK STATUS none 0 19",
        "OK PONG 0",
    ]
    assert pixels(result) == []  # no bad CUE reached the LED


def test_line_length_limit_is_64_bytes_with_terminator(sessions: dict[str, Session]) -> None:
    assert texts(run(sessions, "limits")) == [
        "ERR unknown-command " + "X" * 16,  # 63 + "\n" = 64 bytes: accepted, echo cut
        "ERR too-long",  # 64 + "\n"
        "ERR unknown-command " + "Y" * 16,  # 62 + "\r\n"
        "ERR too-long",  # 63 + "\r\n"
        "ERR too-long",  # 200 bytes: one reply, the rest dropped up to the newline
        "ERR too-long",
        "OK PONG 0",
    ]


def test_partial_lines_are_held_until_the_newline(sessions: dict[str, Session]) -> None:
    result = run(sessions, "partial")
    t0 = loop_start(result)
    assert [(t - t0, line) for t, line in replies(result)] == [
        (600, "OK PONG 0"),
        (700, "OK"),
        (750, "OK PONG 0"),
    ]
    assert pixels(result) == [(700, scaled((0x10, 0x20, 0x30)))]


def test_random_noise_never_crashes_and_each_line_gets_one_reply(
    sessions: dict[str, Session],
) -> None:
    result = run(sessions, "noise")
    segments = NOISE.split(b"\n")  # the last one is ended by the script's "\nPING\n"
    lines = texts(result)
    # exactly one reply per line (an overlong one is answered once, when it overflows)
    assert len(lines) == len(segments) + 1
    assert lines.count("ERR too-long") == sum(len(s) >= 64 for s in segments)
    assert all(line.startswith("ERR ") for line in lines[:-1])
    assert lines[-1] == "OK PONG 0"
    assert all(len(line) <= 64 for line in lines)


def test_endless_line_is_rejected_once(sessions: dict[str, Session]) -> None:
    assert texts(run(sessions, "overflow_no_newline")) == ["ERR too-long", "OK PONG 0"]


def test_boot_self_test_then_watchdog_then_loop(sessions: dict[str, Session]) -> None:
    result = run(sessions, "steady")
    boot = boot_events(result)
    kinds = [e["ev"] for e in boot]
    flashes = [(e["t"], e["rgb"]) for e in boot if e["ev"] == "px"]
    assert flashes == [
        (0, [BRIGHT, 0, 0]),
        (STEP_MS, [0, BRIGHT, 0]),
        (2 * STEP_MS, [0, 0, BRIGHT]),
        (3 * STEP_MS, [0, 0, 0]),
    ]
    assert [(e["t"], e["duty"]) for e in boot if e["ev"] == "duty"] == [
        (0, 0),
        (3 * STEP_MS, DUTY),
        (4 * STEP_MS, 0),
    ]
    assert kinds.index("wdt_start") > max(i for i, k in enumerate(kinds) if k in ("px", "duty"))
    assert next(e for e in boot if e["ev"] == "wdt_start")["timeout"] == 4000
    assert next(e for e in boot if e["ev"] == "kbd_intr")["ch"] == -1
    assert [e["pin"] for e in boot if e["ev"] == "neopixel_new"] == [16]
    assert [(e["pin"], e["hz"]) for e in boot if e["ev"] == "pwm_freq"] == [(15, 20000)]


def test_watchdog_is_fed_every_loop_step(sessions: dict[str, Session]) -> None:
    for name in ("steady", "pulse", "noise", "errors"):
        result = run(sessions, name)
        feeds = result["wdt_feeds"]
        t0 = loop_start(result)
        assert feeds[0] == t0
        assert feeds[-1] >= result["end"] - LOOP_MS
        gaps = {b - a for a, b in itertools.pairwise(feeds)}
        assert gaps <= {0, LOOP_MS}, (name, gaps)
        assert len(feeds) >= (result["end"] - t0) // LOOP_MS


def test_uptime_counts_across_the_tick_wrap(sessions: dict[str, Session]) -> None:
    # every session's fake ticks_ms starts 300 ms before the 2**30 wrap
    result = run(sessions, "uptime")
    ((t, line),) = replies(result)
    assert line == f"OK STATUS none {t // 1000} 0"
    assert t // 1000 == 3


def test_broken_led_is_reported_and_the_puck_keeps_serving(sessions: dict[str, Session]) -> None:
    result = run(sessions, "led_broken")
    # errors: the failed self-test, then the failed write of the cue colour
    assert texts(result) == ["OK STATUS none 0 1", "OK PONG 0", "OK", "OK STATUS pace 1 2"]
    assert duties(result) == [(0, DUTY), (150, 0)]  # the motor still buzzes


def test_ctrl_c_leaves_for_the_repl_with_the_watchdog_fed_by_a_timer(
    sessions: dict[str, Session],
) -> None:
    result = run(sessions, "maintenance", outcome="returned")
    assert texts(result) == ["OK", "OK PONG 0"]
    assert pixels(result)[-1][1] == [0, 0, 0]
    kbd = [e["ch"] for e in result["events"] if e["ev"] == "kbd_intr"]
    assert kbd == [-1, 3]
    assert [e["period"] for e in result["events"] if e["ev"] == "timer"] == [1000]
    assert result["timer_fed"]
    assert result["stdin_left"] == "0d01"  # left for the REPL (mpremote's raw-REPL entry)


AMBER = scaled((255, 80, 0), 96)  # cues.HOST_LOST_RGB at HOST_LOST_LEVEL


def test_host_lost_clears_the_cue_and_shows_a_distinct_pattern(
    sessions: dict[str, Session],
) -> None:
    result = run(sessions, "host_lost")
    px = pixels(result)
    assert px[0] == (0, scaled((255, 0, 0)))
    lost = [(t, rgb) for t, rgb in px if rgb == AMBER]
    assert lost, px
    first = lost[0][0]
    assert 10_000 <= first <= 10_000 + 2 * LOOP_MS  # HOST_LOST_MS after the host's last line
    assert all(rgb in (AMBER, [0, 0, 0]) for t, rgb in px if first <= t < 14_000)
    # double flash every 2 s: 100 on, 150 off, 100 on, then dark
    starts = [t - first for t, rgb in px if rgb == AMBER and first <= t < 14_000]
    assert starts[:4] == [0, 250, 2000, 2250]
    # the motor was off during it; the host's PING at 14 s ends it, a new CUE at 17 s shows
    after_ping = [rgb for t, rgb in px if t >= 14_000 + LOOP_MS]
    assert AMBER not in after_ping and after_ping[-1] == scaled((255, 0, 0))
    assert px[-1][0] >= 17_000
    assert all(d == 0 for t, d in duties(result) if t >= first)
    assert texts(result) == ["OK", "OK PONG 0", "OK"]


def test_keepalive_keeps_the_cue(sessions: dict[str, Session]) -> None:
    result = run(sessions, "keepalive")
    assert pixels(result) == [(0, scaled((255, 0, 0)))]
    assert texts(result) == ["OK"] + ["OK PONG 0"] * 8


def test_a_puck_that_never_heard_a_host_stays_dark(sessions: dict[str, Session]) -> None:
    assert pixels(run(sessions, "never_connected")) == []


def test_a_long_press_is_counted_once_acknowledged_and_read_by_ping(
    sessions: dict[str, Session],
) -> None:
    result = run(sessions, "button")
    assert texts(result) == [
        "OK PONG 0",
        "OK PONG 0",  # the 1 s press did not count
        "OK PONG 1",  # held through a 20 ms bounce: one long press
        "OK PONG 1",  # held on for 3 s more: still one
        "OK PONG 2",
        "OK STATUS none 11 0",  # uptime includes the boot self-test
    ]
    white = scaled((255, 255, 255))
    blinks = [t for t, rgb in pixels(result) if rgb == white]
    assert len(blinks) == 6  # two acknowledgements of three identify blinks each
    assert 3100 <= blinks[0] <= 3100 + 2 * LOOP_MS  # 2 s after the press began (t = 1100)
    button = [p for p in boot_events(result) if p["ev"] == "pin" and p["pin"] == 14]
    assert [(p["mode"], p["pull"]) for p in button] == [(0, 1)]  # input with pull-up, at boot


def test_without_a_button_ping_stays_as_before(sessions: dict[str, Session]) -> None:
    result = run(sessions, "no_button")
    assert texts(result) == ["OK PONG", "OK PONG"]
    assert pixels(result) == []
