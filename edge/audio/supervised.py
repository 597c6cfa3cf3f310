"""Audio that comes and goes: a capture source that reopens its device with jittered backoff.

A USB headset adapter can be unplugged, PortAudio can report an error, or the stream can simply
stop. :class:`SupervisedSource` wraps a factory that opens the real source (e.g. a
:class:`~edge.audio.pyaudio_source.PyAudioSource`); whenever opening fails, reading fails or the
stream ends, it closes what it had, waits (exponential backoff from ``initial_s`` to ``max_s``,
each wait multiplied by a random factor in ``1 +/- jitter`` so a room of units does not retry in
lockstep) and opens it again. While it waits no blocks arrive, so the runner does not feed the
systemd watchdog and :attr:`flowing` is False (what ``status`` reports as "no audio").

When no audio has arrived for ``give_up_s`` (the device is gone for good) it raises
:class:`CaptureLost` (exit 1, so ``Restart=on-failure`` restarts the unit). Keep ``give_up_s``
below the unit's ``WatchdogSec`` so the process says why it stopped before systemd kills it.

Block times stay continuous: ``t0`` counts seconds of audio delivered, across reopenings. The
clock, the sleep and the random source are injected; tests drive all three.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from edge.errors import PoiseError
from edge.protocols import AudioBlock, AudioSource, Clock

log = logging.getLogger(__name__)


class CaptureLost(PoiseError):
    """The capture device stayed unusable for longer than the give-up time."""

    exit_code = 1


#: What counts as a capture failure worth reopening for (PortAudio raises OSError; our sources
#: raise PoiseError subclasses with a clear message).
RECOVERABLE: tuple[type[BaseException], ...] = (OSError, PoiseError, ValueError)


@dataclass(frozen=True)
class Backoff:
    """Waits between reopening attempts."""

    initial_s: float = 0.5
    """First wait after a failure."""
    max_s: float = 8.0
    """Longest wait."""
    factor: float = 2.0
    """Each consecutive failure multiplies the wait by this."""
    jitter: float = 0.25
    """Each wait is multiplied by a random factor in 1 +/- this."""
    give_up_s: float = 20.0
    """No audio for this long: raise :class:`CaptureLost`."""

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError("need 0 < initial_s <= max_s, factor >= 1, 0 <= jitter < 1")
        if self.give_up_s <= 0:
            raise ValueError("give_up_s must be positive")

    def wait(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (from 1)."""
        base = min(self.max_s, self.initial_s * self.factor ** max(0, failures - 1))
        return base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))


class SupervisedSource:
    """An :class:`~edge.protocols.AudioSource` that survives its device coming and going."""

    def __init__(
        self,
        open_source: Callable[[], AudioSource],
        clock: Clock,
        sleep: Callable[[float], None],
        *,
        sample_rate: int,
        channels: int,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        name: str = "capture",
    ) -> None:
        self._open = open_source
        self.clock = clock
        self._sleep = sleep
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.backoff = backoff if backoff is not None else Backoff()
        self._rng = rng if rng is not None else random.Random()
        self.name = name
        self._current: AudioSource | None = None
        self._closed = threading.Event()
        self.flowing = False
        """True while blocks arrive; False before the first one and while reopening."""
        self.errors = 0
        """Failures seen (open errors, read errors, streams that ended)."""
        self.reopens = 0
        """Times the device was opened again after a failure."""
        self.last_error: str | None = None
        """The most recent failure, for status and the give-up message."""
        self._past_overflows = 0

    @property
    def overflows(self) -> int:
        """Input overflows of every stream opened so far (for ``health``)."""
        current = int(getattr(self._current, "overflows", 0) or 0)
        return self._past_overflows + current

    def _failed(self, why: str) -> None:
        self.flowing = False
        self.errors += 1
        self.last_error = why
        log.warning("%s: %s (failure %d); reopening", self.name, why, self.errors)

    def _release(self) -> None:
        src, self._current = self._current, None
        if src is not None:
            self._past_overflows += int(getattr(src, "overflows", 0) or 0)
            try:
                src.close()
            except RECOVERABLE as exc:
                log.debug("%s: closing after failure: %s", self.name, exc)

    def blocks(self) -> Iterator[AudioBlock]:
        """Blocks from the device, reopened as needed, until :meth:`close` or give-up."""
        emitted = 0.0
        failures = 0
        last_audio = self.clock.now()
        opened_once = False
        while not self._closed.is_set():
            try:
                self._current = src = self._open()
                if opened_once:
                    self.reopens += 1
                    log.info("%s: reopened (%d reopenings so far)", self.name, self.reopens)
                opened_once = True
                for block in src.blocks():
                    if self._closed.is_set():
                        return
                    if not self.flowing:
                        log.info("%s: audio flowing", self.name)
                    self.flowing = True
                    failures = 0
                    last_audio = self.clock.now()
                    yield AudioBlock(emitted, block.samples, block.sample_rate)
                    emitted += block.duration_s
                if self._closed.is_set():
                    return
                self._failed("the stream ended")
            except RECOVERABLE as exc:
                if self._closed.is_set():
                    return
                self._failed(str(exc) or type(exc).__name__)
            finally:
                self._release()
            failures += 1
            silent = self.clock.now() - last_audio
            if silent >= self.backoff.give_up_s:
                raise CaptureLost(
                    f"{self.name}: no audio for {silent:.0f} s after {self.errors} failure(s); "
                    f"giving up (last: {self.last_error})"
                )
            wait = min(self.backoff.wait(failures, self._rng), self.backoff.give_up_s - silent)
            self._sleep(max(0.0, wait))

    def close(self) -> None:
        """Stop: the current stream is closed and :meth:`blocks` ends (safe to call twice)."""
        self._closed.set()
        self._release()
