"""The small protocols behind which all hardware and network live, so the core stays I/O-free.

Implementations are passed in through constructors; tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class AudioBlock:
    """A block of interleaved int16 audio from a source, already at the source's output rate."""

    t0: float
    """Stream time of the first sample, in seconds of audio since the source started."""
    samples: npt.NDArray[np.int16]
    """Shape (n, channels), int16."""
    sample_rate: int
    """Samples per second per channel."""

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate


@runtime_checkable
class AudioSource(Protocol):
    """Yields timestamped int16 blocks of any size until the stream ends (or forever, live)."""

    sample_rate: int
    channels: int

    def blocks(self) -> Iterator[AudioBlock]: ...

    def close(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """Monotonic time in seconds. Real: ``time.monotonic``; tests: a fake advanced by hand."""

    def now(self) -> float: ...


class MonotonicClock:
    """The real clock."""

    def now(self) -> float:
        import time

        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._t += seconds

    def set(self, t: float) -> None:
        if t < self._t:
            raise ValueError("a clock does not go backwards")
        self._t = t
