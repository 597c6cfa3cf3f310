"""Login rate limiting per account and per client address (sliding window, injected clock)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock


@dataclass(frozen=True)
class RateLimitSettings:
    """How many failed logins are tolerated before further attempts are refused."""

    per_account: int = 5
    """Failed logins per account name within ``window_s`` before that account is locked out."""
    per_address: int = 20
    """Failed logins per client address within ``window_s`` before that address is locked out."""
    window_s: float = 900.0
    """Sliding window (seconds) over which failures are counted."""


class LoginRateLimiter:
    """Counts failures by key; ``retry_after`` says how long a key must wait (0: may try)."""

    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float]) -> None:
        self._s = settings
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = Lock()

    def _window(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self._s.window_s:
            q.popleft()
        if not q:
            del self._fails[key]
            return deque()
        return q

    def retry_after(self, account: str, address: str) -> float:
        """Seconds until a login for ``account`` from ``address`` is allowed again (0: allowed)."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key, limit in (
                (f"a:{account}", self._s.per_account),
                (f"ip:{address}", self._s.per_address),
            ):
                q = self._window(key, now)
                if len(q) >= limit:
                    wait = max(wait, q[len(q) - limit] + self._s.window_s - now)
            return wait

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"a:{account}", f"ip:{address}"):
                self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, account: str) -> None:
        """A good password clears the account's failures (not the address's)."""
        with self._lock:
            self._fails.pop(f"a:{account}", None)
