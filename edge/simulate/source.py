"""Generated calls as an :class:`~edge.protocols.AudioSource`: what a simulated headset hears."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from edge.audio.resample import to_int16
from edge.protocols import AudioBlock
from edge.simulate.desk_calls import DeskCalls
from edge.simulate.speech import SR


class GeneratedCallSource:
    """Yields int16 two-channel blocks of ``block_s`` from a desk's generated calls, one call
    after another, until ``max_s`` seconds of audio (None: until closed)."""

    channels = 2

    def __init__(self, calls: DeskCalls, block_s: float = 0.1, max_s: float | None = None) -> None:
        self.calls = calls
        self.sample_rate = SR
        self.block_frames = max(1, round(block_s * SR))
        self.max_frames = None if max_s is None else round(max_s * SR)
        self.overflows = 0
        self._closed = False
        self._first = calls.call(0)  # the first call is ready before the loop starts

    def blocks(self) -> Iterator[AudioBlock]:
        sent = 0
        index = 0
        while not self._closed:
            audio = self._first if index == 0 else self.calls.call(index)
            index += 1
            pcm = to_int16(np.clip(audio, -1.0, 1.0))
            for at in range(0, pcm.shape[0], self.block_frames):
                if self._closed:
                    return
                n = min(self.block_frames, pcm.shape[0] - at)
                if self.max_frames is not None:
                    n = min(n, self.max_frames - sent)
                if n <= 0:
                    return
                yield AudioBlock(sent / SR, np.ascontiguousarray(pcm[at : at + n]), SR)
                sent += n

    def close(self) -> None:
        self._closed = True
