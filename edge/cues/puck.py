"""Cues on the USB cue puck, speaking docs/puck-protocol.md (v1) over serial.

Each command waits for its ``OK``/``ERR`` reply (up to ``serial_timeout_s``: the serial object's
read timeout). ``ERR`` replies are logged. A timeout or an I/O error drops the connection; the
wanted state (a cue or clear) is re-sent after reconnecting, at most once per ``retry_s`` of the
injected clock, from :meth:`PuckCue.tick`. The cue never raises into the device loop: a missing
puck only costs log lines.

Keepalive: while connected, :meth:`PuckCue.tick` sends ``PING`` whenever nothing was sent for
``cues.puck_keepalive_s`` (2 s). The puck (firmware >= 1.1.0) clears its cue and shows its
"host lost" pattern after 10 s without a line, so a cue never outlives a dead host.

Button (firmware >= 1.2.0): the ``PING`` reply carries the count of long presses since the
puck booted (``OK PONG <n>``). When it grows, :attr:`PuckCue.on_long_press` is called (once,
however many presses since the last ``PING``) on the thread that ticks the cue; the device loop
passes it on to the audio thread: a new agent at the desk. The first count after the host
starts only sets the reference (presses from before it started are not news). Across a
reconnect the reference is kept, so a press while the link was down is seen by the first
``PING`` after it: a count at or above the reference counts the difference; a count below it
means the puck rebooted (it counts from 0 again), and every press since its boot is new.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import Protocol

from edge.protocols import Clock
from edge.settings import CueSettings, CueStyle

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z_]{1,16}$")


class SerialLike(Protocol):
    """The part of ``serial.Serial`` used here."""

    def write(self, data: bytes) -> int | None: ...

    def readline(self) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def open_pyserial(port: str, timeout: float) -> SerialLike:
    import serial

    s: SerialLike = serial.Serial(port, 115200, timeout=timeout, write_timeout=timeout)
    return s


class PuckError(Exception):
    """The puck did not answer, or the line broke."""


class PuckCue:
    """A :class:`~edge.cues.base.CueOutput` for the RP2040 cue puck."""

    def __init__(
        self,
        port: str,
        settings: CueSettings,
        clock: Clock,
        opener: Callable[[str, float], SerialLike] = open_pyserial,
        retry_s: float = 2.0,
    ) -> None:
        self.port = port
        self.settings = settings
        self.clock = clock
        self.opener = opener
        self.retry_s = retry_s
        self._conn: SerialLike | None = None
        self._wanted = "CLEAR"
        self._delivered = False
        self._next_try = -1e18
        self._last_sent = -1e18
        self.keepalives = 0
        """PINGs sent."""
        self.errors = 0
        """ERR replies, timeouts and I/O errors seen."""
        self.version: str | None = None
        self.on_long_press: Callable[[], None] | None = None
        """Called once per long press of the puck's button (see the module docstring)."""
        self.long_presses = 0
        """Long presses seen since start."""
        self._presses: int | None = None

    # -- the line protocol -----------------------------------------------------------------

    def _connect(self) -> SerialLike:
        if self._conn is None:
            try:
                self._conn = self.opener(self.port, self.settings.serial_timeout_s)
            except (OSError, ValueError) as exc:
                raise PuckError(f"cannot open {self.port}: {exc}") from exc
            self._conn.reset_input_buffer()
            reply = self._exchange("VERSION")
            self.version = reply[3:] if reply.startswith("OK") else None
            log.info("cue puck on %s: %s", self.port, reply)
        return self._conn

    def _exchange(self, line: str) -> str:
        """Send one command, return its reply line (``OK ...`` or ``ERR ...``)."""
        conn = self._conn
        assert conn is not None
        self._last_sent = self.clock.now()
        try:
            conn.write(line.encode("ascii") + b"\n")
            for _ in range(8):  # skip stray lines (boot messages), never more than a few
                raw = conn.readline()
                if not raw:
                    raise PuckError(
                        f"no reply to {line.split()[0]} within {self.settings.serial_timeout_s} s"
                    )
                reply = raw.decode("utf-8", "replace").strip()
                if reply.startswith(("OK", "ERR")):
                    if reply.startswith("ERR"):
                        self.errors += 1
                        log.warning("cue puck refused %r: %s", line, reply)
                    return reply
            raise PuckError("no OK/ERR reply")
        except (OSError, ValueError) as exc:  # serial.SerialException is an OSError
            raise PuckError(f"serial I/O on {self.port}: {exc}") from exc

    def _pong(self, reply: str) -> None:
        """Read the button's long-press count from a ``PING`` reply."""
        words = reply.split()
        if len(words) != 3 or words[:2] != ["OK", "PONG"] or not words[2].isdigit():
            return  # firmware without a button, or an ERR (already counted)
        count = int(words[2])
        if self._presses is None:
            new = 0  # the first count since the host started: the reference
        elif count >= self._presses:
            new = count - self._presses
        else:  # below the reference: the puck rebooted and counts from 0 again
            new = count
        self._presses = count
        if new:  # several presses between two PINGs still mean one thing: a new agent
            self.long_presses += new
            log.info("cue puck: long press of the button")
            if self.on_long_press is not None:
                self.on_long_press()

    def _drop(self, why: str) -> None:
        self.errors += 1
        log.warning("cue puck: %s; will reconnect", why)
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None

    def _deliver(self) -> None:
        now = self.clock.now()
        if now < self._next_try:
            return
        try:
            self._connect()
            self._exchange(self._wanted)
            self._delivered = True
        except PuckError as exc:
            self._delivered = False
            self._next_try = now + self.retry_s
            self._drop(str(exc))

    # -- CueOutput -------------------------------------------------------------------------

    def show(self, cue: str, style: CueStyle) -> None:
        if not _NAME.match(cue):
            raise ValueError(f"cue name {cue!r} does not fit the puck protocol")
        self._wanted = f"CUE {cue} {style.colour.upper()} {style.pattern} {style.buzz}"
        self._delivered = False
        self._next_try = -1e18
        self._deliver()

    def clear(self) -> None:
        self._wanted = "CLEAR"
        self._delivered = False
        self._next_try = -1e18
        self._deliver()

    def tick(self, now: float) -> None:
        if not self._delivered:
            self._deliver()
        elif self._conn is not None and now - self._last_sent >= self.settings.puck_keepalive_s:
            try:
                self._pong(self._exchange("PING"))
                self.keepalives += 1
            except PuckError as exc:
                self._delivered = False
                self._next_try = now + self.retry_s
                self._drop(str(exc))

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._exchange("CLEAR")
            except PuckError as exc:
                log.warning("cue puck: could not clear on close: %s", exc)
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None
