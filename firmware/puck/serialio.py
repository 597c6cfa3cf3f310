"""Non-blocking reads from the USB serial port (sys.stdin.buffer polled with select.poll)."""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Poller(Protocol):
        def poll(self, timeout: int = -1) -> Any: ...

    class ByteStream(Protocol):
        def read(self, n: int) -> Any: ...


CTRL_C = 3


class SerialReader:
    def __init__(self, poller: "Poller", stream: "ByteStream", max_bytes: int) -> None:
        self._poller = poller
        self._stream = stream
        self._max = max_bytes

    def read(self) -> bytes:
        """Whatever is waiting, at most max_bytes, without blocking. Stops right after a
        Ctrl-C byte so that the bytes behind it stay queued for the REPL (see app.py)."""
        out = bytearray()
        while len(out) < self._max and self._poller.poll(0):
            chunk = self._stream.read(1)
            if not chunk:
                break
            out.extend(chunk)
            if chunk[0] == CTRL_C:
                break
        return bytes(out)
