"""Jittered exponential reconnect backoff (on the injected clock)."""

from __future__ import annotations

import random


class Backoff:
    """``min_s`` doubling per failed attempt up to ``max_s``; each delay drawn uniformly from
    ``(1 - jitter) .. 1`` times the nominal one, so units that lost the broker together do not
    come back in lock step."""

    def __init__(
        self, min_s: float, max_s: float, jitter: float, rng: random.Random | None = None
    ) -> None:
        self.min_s = min_s
        self.max_s = max_s
        self.jitter = jitter
        self.rng = rng or random.Random()
        self.attempt = 0

    def next_delay(self) -> float:
        nominal = min(self.max_s, self.min_s * (2.0 ** min(self.attempt, 30)))
        self.attempt += 1
        return nominal * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.attempt = 0
