"""Monotonic millisecond clock over MicroPython's wrapping ticks.

time.ticks_ms() wraps (every 2**30 ms, about 12.4 days, on the RP2040); the puck runs for
weeks, so the loop works on an ever-growing integer instead: each now_ms() adds the
ticks_diff() since the previous call. The tick functions are injected (tests use fake ones).
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


class MonotonicClock:
    def __init__(self, ticks_ms: "Callable[[], Any]",
                 ticks_diff: "Callable[[Any, Any], int]") -> None:
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self._last = ticks_ms()
        self._now = 0

    def now_ms(self) -> int:
        """Milliseconds since this clock was created; never decreases."""
        ticks = self._ticks_ms()
        delta = self._ticks_diff(ticks, self._last)
        if delta > 0:
            self._now += delta
        self._last = ticks
        return self._now
