"""Splits the serial byte stream into protocol lines, enforcing the 64-byte line limit.

Pure logic (no hardware): bytes go in through feed(), complete lines or TOO_LONG events come
out. A line is at most LIMIT bytes including its "\\n" (and a "\\r" before it, which is
stripped). When LIMIT bytes arrive without a newline the line is reported TOO_LONG once and
everything up to the next newline is dropped. A partial line is held across feed() calls.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Tuple

LIMIT = 64
LINE = 0
TOO_LONG = 1

_NL = 10
_CR = 13


class LineBuffer:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._buf = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> "List[Tuple[int, bytes]]":
        events: "List[Tuple[int, bytes]]" = []
        for byte in data:
            if byte == _NL:
                if self._discarding:
                    self._discarding = False
                else:
                    line = bytes(self._buf)
                    if line and line[-1] == _CR:
                        line = line[:-1]
                    events.append((LINE, line))
                self._buf = bytearray()
            elif self._discarding:
                continue
            elif len(self._buf) >= self._limit - 1:
                # No room left for the terminator: the line is over the limit.
                self._buf = bytearray()
                self._discarding = True
                events.append((TOO_LONG, b""))
            else:
                self._buf.append(byte)
        return events

    def pending(self) -> int:
        """Bytes of the partial line held so far (0 while discarding)."""
        return len(self._buf)
