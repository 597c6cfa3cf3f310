"""Streaming resampling to the front-end rate with a proper anti-aliasing filter (soxr, HQ).

The resampler keeps its filter state across blocks, so feeding a signal in any chunking gives the
same output as feeding it whole (up to float rounding). When the rates already match it is a
pass-through that copies nothing.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]


class StreamResampler:
    """Resamples float32 blocks of shape (n, channels) from ``in_rate`` to ``out_rate``."""

    def __init__(self, in_rate: int, out_rate: int, channels: int, quality: str = "HQ") -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        if channels < 1:
            raise ValueError("channels must be at least 1")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self.channels = int(channels)
        self.quality = quality
        self._stream: object | None = None
        self._done = False
        self.reset()

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    def reset(self) -> None:
        """Forget all filter state (start of a new stream)."""
        self._done = False
        if self.passthrough:
            self._stream = None
            return
        import soxr

        self._stream = soxr.ResampleStream(
            self.in_rate, self.out_rate, self.channels, dtype="float32", quality=self.quality
        )

    def _check(self, x: F32) -> F32:
        a = np.asarray(x, dtype=np.float32)
        if a.ndim == 1 and self.channels == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != self.channels:
            raise ValueError(f"expected shape (n, {self.channels}), got {a.shape}")
        return np.ascontiguousarray(a)

    def process(self, x: F32) -> F32:
        """Resample the next block; the output may be shorter or longer than rate-exact."""
        if self._done:
            raise ValueError("resampler was flushed; call reset() to start a new stream")
        a = self._check(x)
        if self._stream is None:
            return a
        y: F32 = self._stream.resample_chunk(a, last=False)  # type: ignore[attr-defined]
        return y.reshape(-1, self.channels)

    def flush(self) -> F32:
        """The samples still inside the filter at the end of the stream."""
        if self._done:
            return np.zeros((0, self.channels), np.float32)
        self._done = True
        if self._stream is None:
            return np.zeros((0, self.channels), np.float32)
        empty = np.zeros((0, self.channels), np.float32)
        y: F32 = self._stream.resample_chunk(empty, last=True)  # type: ignore[attr-defined]
        return y.reshape(-1, self.channels)


def resample(x: F32, in_rate: int, out_rate: int) -> F32:
    """Whole-signal convenience: (n,) or (n, channels) float32 in, same layout out."""
    a = np.asarray(x, dtype=np.float32)
    mono = a.ndim == 1
    a2 = a[:, None] if mono else a
    rs = StreamResampler(in_rate, out_rate, int(a2.shape[1]))
    y = np.concatenate([rs.process(a2), rs.flush()], axis=0)
    return y[:, 0] if mono else y


def to_int16(x: F32) -> npt.NDArray[np.int16]:
    """Float in [-1, 1) to int16, rounding and clipping (x * 32768, so 16-bit PCM round-trips)."""
    return np.clip(np.rint(np.asarray(x, np.float32) * 32768.0), -32768, 32767).astype(np.int16)
