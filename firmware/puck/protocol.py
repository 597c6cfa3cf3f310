"""Parses one protocol line and dispatches it to the cue engine (docs/puck-protocol.md).

Pure logic (no hardware imports): handle(line_bytes, now_ms) returns the reply line (without
"\\n"). Every call returns exactly one `OK ...` or `ERR <reason>` and never raises for any
input. `errors` counts ERR replies (and, via add_error(), faults elsewhere) since boot.
"""

from puck import PROTOCOL, VERSION
from puck.cues import BUZZES, PATTERNS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Protocol, Tuple

    class EngineLike(Protocol):
        name: Optional[str]

        def show(self, name: str, rgb: Tuple[int, int, int], pattern: str, buzz: str,
                 now_ms: int) -> None: ...

        def identify(self, now_ms: int) -> None: ...

        def clear(self) -> None: ...

    class PressCount(Protocol):
        count: int


NAME_MAX = 16
ECHO_MAX = 16
_HEX = "0123456789abcdefABCDEF"


def valid_utf8(data: bytes) -> bool:
    """Strict UTF-8 check (no overlong forms, no surrogates, nothing above U+10FFFF)."""
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif c == 0xE0:
            need, lo, hi = 2, 0xA0, 0xBF
        elif 0xE1 <= c <= 0xEC or 0xEE <= c <= 0xEF:
            need, lo, hi = 2, 0x80, 0xBF
        elif c == 0xED:
            need, lo, hi = 2, 0x80, 0x9F
        elif c == 0xF0:
            need, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= c <= 0xF3:
            need, lo, hi = 3, 0x80, 0xBF
        elif c == 0xF4:
            need, lo, hi = 3, 0x80, 0x8F
        else:
            return False
        if i + need >= n:
            return False  # truncated sequence
        if not lo <= data[i + 1] <= hi:
            return False
        for k in range(2, need + 1):
            if not 0x80 <= data[i + k] <= 0xBF:
                return False
        i += need + 1
    return True


def printable(word: str) -> str:
    """`word` cut to ECHO_MAX characters, anything but printable ASCII replaced by '?'."""
    out = ""
    for ch in word[:ECHO_MAX]:
        out += ch if " " < ch <= "~" else "?"
    return out


def parse_colour(text: str) -> "Optional[Tuple[int, int, int]]":
    if len(text) != 6:
        return None
    for ch in text:
        if ch not in _HEX:
            return None
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


def valid_name(text: str) -> bool:
    if not 1 <= len(text) <= NAME_MAX:
        return False
    return all("a" <= ch <= "z" or ch == "_" for ch in text)


class LineProtocol:
    def __init__(self, engine: "EngineLike", unique_id_hex: str,
                 presses: "Optional[PressCount]" = None) -> None:
        self._engine = engine
        self._uid = unique_id_hex
        self._presses = presses  # the button's long presses (None: no button configured)
        self.errors = 0

    def add_error(self) -> None:
        self.errors += 1

    def too_long(self) -> str:
        return self._err("too-long")

    def handle(self, raw: bytes, now_ms: int) -> str:
        if not valid_utf8(raw):
            return self._err("bad-utf8")
        line = raw.decode("utf-8")
        if line == "":
            return self._err("empty")
        words = line.split(" ")
        command = words[0]
        args = words[1:]
        if command == "":
            return self._err("bad-args spacing")
        if command not in ("PING", "VERSION", "IDENTIFY", "CUE", "CLEAR", "STATUS"):
            return self._err("unknown-command " + printable(command))
        for word in args:
            if word == "":
                return self._err("bad-args spacing")
        if command == "CUE":
            return self._cue(args, now_ms)
        if args:
            return self._err("bad-args no-arguments-expected")
        if command == "PING":
            if self._presses is None:
                return "OK PONG"
            return "OK PONG %d" % self._presses.count
        if command == "VERSION":
            return "OK VERSION poise-puck " + VERSION + " proto " + str(PROTOCOL)
        if command == "IDENTIFY":
            self._engine.identify(now_ms)
            return "OK IDENTIFY " + self._uid
        if command == "CLEAR":
            self._engine.clear()
            return "OK"
        name = self._engine.name
        return "OK STATUS %s %d %d" % (name if name else "none", now_ms // 1000, self.errors)

    def _cue(self, args: "List[str]", now_ms: int) -> str:
        if len(args) != 4:
            return self._err("bad-args expected-name-colour-pattern-buzz")
        name, colour, pattern, buzz = args
        if not valid_name(name):
            return self._err("bad-args name")
        rgb = parse_colour(colour)
        if rgb is None:
            return self._err("bad-args colour")
        if pattern not in PATTERNS:
            return self._err("bad-args pattern")
        if buzz not in BUZZES:
            return self._err("bad-args buzz")
        self._engine.show(name, rgb, pattern, buzz, now_ms)
        return "OK"

    def _err(self, reason: str) -> str:
        self.errors += 1
        return "ERR " + reason
