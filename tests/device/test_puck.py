"""The cue puck over serial: protocol lines, OK/ERR handling, timeouts and reconnects with a fake
serial object; the real pyserial path against a pty pair with a tiny in-test responder."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from edge.cues.puck import PuckCue
from edge.protocols import FakeClock
from edge.settings import CueSettings, CueStyle

S = CueSettings(serial_timeout_s=0.5)
STYLE = CueStyle("ff2000", "steady", "short")


class FakeSerial:
    """Answers like the puck; ``replies`` can override per command word; ``dead`` times out."""

    def __init__(self, log: list[str], replies: dict[str, str] | None = None) -> None:
        self.log = log
        self.replies = replies or {}
        self.out: list[bytes] = []
        self.dead = False
        self.closed = False

    def write(self, data: bytes) -> int:
        if self.closed:
            raise OSError("closed")
        line = data.decode().rstrip("\n")
        assert len(data) <= 64 and data.endswith(b"\n")
        self.log.append(line)
        word = line.split()[0]
        reply = self.replies.get(word)
        if reply is None:
            reply = "OK VERSION poise-puck 1.0.0 proto 1" if word == "VERSION" else "OK"
        if not self.dead:
            self.out.append(reply.encode() + b"\r\n")
        return len(data)

    def readline(self) -> bytes:
        return self.out.pop(0) if self.out else b""  # b"" = the read timed out

    def reset_input_buffer(self) -> None:
        self.out.clear()

    def close(self) -> None:
        self.closed = True


def make(replies=None, fail_open=0):
    sent: list[str] = []
    opened: list[FakeSerial] = []
    failures = [fail_open]

    def opener(port: str, timeout: float) -> FakeSerial:
        assert port == "/dev/ttyACM0" and timeout == 0.5
        if failures[0] > 0:
            failures[0] -= 1
            raise OSError(2, "No such file or directory")
        s = FakeSerial(sent, replies)
        opened.append(s)
        return s

    clock = FakeClock()
    cue = PuckCue("/dev/ttyACM0", S, clock, opener=opener, retry_s=2.0)
    return cue, sent, opened, clock


def test_show_and_clear_send_protocol_lines():
    cue, sent, opened, _ = make()
    cue.show("overtalk", STYLE)
    cue.clear()
    cue.close()
    assert sent == ["VERSION", "CUE overtalk FF2000 steady short", "CLEAR", "CLEAR"]
    assert cue.version == "VERSION poise-puck 1.0.0 proto 1"
    assert opened[0].closed and cue.errors == 0


def test_err_reply_is_logged_and_counted(caplog):
    cue, *_ = make({"CUE": "ERR bad-args colour"})
    with caplog.at_level(logging.WARNING, logger="edge.cues.puck"):
        cue.show("pace", STYLE)
    assert cue.errors == 1
    assert any("ERR bad-args colour" in r.message for r in caplog.records)


def test_timeout_drops_connection_and_reconnects_on_tick():
    cue, sent, opened, clock = make()
    cue.show("pace", STYLE)
    opened[0].dead = True
    cue.show("flat", STYLE)  # no reply: dropped, to be re-sent
    assert opened[0].closed and cue.errors == 1
    clock.advance(1.0)
    cue.tick(clock.now())
    assert len(opened) == 1  # retry waits retry_s
    clock.advance(1.0)
    cue.tick(clock.now())
    assert len(opened) == 2
    assert sent[-2:] == ["VERSION", "CUE flat FF2000 steady short"]
    cue.tick(clock.now() + 1.0)
    assert sent[-1] == "CUE flat FF2000 steady short" and len(sent) == 5  # delivered once


def test_keepalive_ping_every_interval_while_idle_and_reconnect_when_it_fails():
    cue, sent, opened, clock = make()
    cue.show("pace", STYLE)
    for _ in range(10):  # 5 s of 0.5 s ticks: a PING once 2 s passed since the last line
        clock.advance(0.5)
        cue.tick(clock.now())
    assert sent == ["VERSION", "CUE pace FF2000 steady short", "PING", "PING"]
    assert cue.keepalives == 2
    opened[0].dead = True
    clock.advance(2.0)
    cue.tick(clock.now())  # PING unanswered: dropped, the cue re-sent after reconnecting
    assert opened[0].closed and cue.errors == 1
    clock.advance(2.0)
    cue.tick(clock.now())
    assert sent[-2:] == ["VERSION", "CUE pace FF2000 steady short"] and len(opened) == 2


def button_puck(replies: dict[str, str]):
    """A puck answering ``replies``, showing a cue; the presses it reported and an ``idle(s)``
    that ticks it every 0.5 s for ``s`` seconds."""
    cue, sent, opened, clock = make(replies=replies)
    presses: list[int] = []
    cue.on_long_press = lambda: presses.append(1)

    def idle(seconds: float) -> None:
        for _ in range(int(seconds / 0.5)):
            clock.advance(0.5)
            cue.tick(clock.now())

    cue.show("pace", STYLE)
    return cue, sent, opened, presses, idle


def test_a_long_press_on_the_button_reaches_the_callback_once():
    replies = {"PING": "OK PONG 4"}  # four presses before this host connected
    cue, sent, opened, presses, idle = button_puck(replies)
    idle(2.0)
    assert sent[-1] == "PING" and presses == []  # the first count is only the reference
    replies["PING"] = "OK PONG 5"
    idle(2.0)
    assert presses == [1] and cue.long_presses == 1
    idle(4.0)
    assert presses == [1]  # the count did not change
    replies["PING"] = "OK PONG 8"  # three presses between two PINGs: one agent change
    idle(2.0)
    assert presses == [1, 1] and cue.long_presses == 4
    opened[0].dead = True  # the puck reboots: its count starts again from 0
    idle(2.0)
    replies["PING"] = "OK PONG 0"
    opened.clear()
    idle(4.0)
    assert opened and presses == [1, 1]  # no press since its boot
    replies["PING"] = "OK PONG 1"
    idle(2.0)
    assert presses == [1, 1, 1]


def test_a_press_while_the_link_is_down_is_seen_after_reconnecting():
    replies = {"PING": "OK PONG 2"}
    cue, _sent, opened, presses, idle = button_puck(replies)
    idle(2.0)
    assert presses == []  # the reference
    opened[0].dead = True  # the cable is pulled; the agent presses meanwhile
    idle(2.0)
    replies["PING"] = "OK PONG 3"  # the same puck, not rebooted: one press while down
    opened.clear()
    idle(4.0)
    assert opened and presses == [1]
    opened[0].dead = True  # now it reboots and is pressed once before the host reconnects
    idle(2.0)
    replies["PING"] = "OK PONG 1"  # below the reference of 3: a rebooted puck
    opened.clear()
    idle(4.0)
    assert opened and presses == [1, 1] and cue.long_presses == 2


def test_firmware_without_a_button_never_calls_back():
    cue, _sent, _opened, clock = make(replies={"PING": "OK PONG"})
    cue.on_long_press = lambda: pytest.fail("no button")
    cue.show("pace", STYLE)
    for _ in range(20):
        clock.advance(0.5)
        cue.tick(clock.now())
    assert cue.keepalives >= 4 and cue.long_presses == 0


def test_missing_port_never_raises_and_recovers():
    cue, sent, opened, clock = make(fail_open=2)
    cue.show("pace", STYLE)
    clock.advance(2.0)
    cue.tick(clock.now())
    assert opened == [] and cue.errors == 2
    clock.advance(2.0)
    cue.tick(clock.now())
    assert sent == ["VERSION", "CUE pace FF2000 steady short"]


def test_bad_cue_name_rejected():
    cue, *_ = make()
    with pytest.raises(ValueError):
        cue.show("Pace!", STYLE)


def _responder(master: int, seen: list[str], stop: threading.Event) -> None:
    buf = b""
    while not stop.is_set():
        try:
            chunk = os.read(master, 256)
        except OSError:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode().strip()
            seen.append(text)
            if text == "VERSION":
                reply = "OK VERSION poise-puck 0.1.0 proto 1"
            elif text.startswith("CUE ") and len(text.split()) != 5:
                reply = "ERR bad-args fields"
            elif text.split()[0] in ("CUE", "CLEAR", "PING"):
                reply = "OK"
            else:
                reply = f"ERR unknown-command {text.split()[0]}"
            os.write(master, reply.encode() + b"\r\n")


def test_real_pyserial_over_pty():
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    seen: list[str] = []
    stop = threading.Event()
    th = threading.Thread(target=_responder, args=(master, seen, stop), daemon=True)
    th.start()
    try:
        cue = PuckCue(os.ttyname(slave), CueSettings(serial_timeout_s=2.0), FakeClock())
        cue.show("empathy", CueStyle("00ff60", "pulse", "short"))
        cue.clear()
        assert cue.version == "VERSION poise-puck 0.1.0 proto 1"
        assert cue.errors == 0
        cue.close()
        assert seen == ["VERSION", "CUE empathy 00FF60 pulse short", "CLEAR", "CLEAR"]
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
        th.join(timeout=5)
