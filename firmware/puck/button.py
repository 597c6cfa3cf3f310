"""The puck's button: a long press says "a new agent is at this desk" (docs/puck-protocol.md).

Pure logic (no hardware imports): update(pressed, now_ms) once per loop step, with the button's
level and the monotonic clock. A press counts once it has been held for `long_ms`, once per
press however long it is held; the press ends only after `release_ms` of release, so contact
bounce neither ends it early nor counts it twice. `count` (long presses since boot) is what the
host reads from the PING reply.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


class LongPress:
    def __init__(self, long_ms: int = 2000, release_ms: int = 50) -> None:
        self.long_ms = long_ms
        self.release_ms = release_ms
        self.count = 0
        self._down_since: "Optional[int]" = None
        self._up_since: "Optional[int]" = None
        self._fired = False

    def update(self, pressed: bool, now_ms: int) -> bool:
        """Feed one sample; True on the step a long press is recognised."""
        if pressed:
            self._up_since = None
            if self._down_since is None:
                self._down_since = now_ms
            elif not self._fired and now_ms - self._down_since >= self.long_ms:
                self._fired = True
                self.count += 1
                return True
            return False
        if self._down_since is not None:
            if self._up_since is None:
                self._up_since = now_ms
            if now_ms - self._up_since >= self.release_ms:
                self._down_since = None
                self._up_since = None
                self._fired = False
        return False
