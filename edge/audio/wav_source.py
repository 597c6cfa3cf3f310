"""A WAV file as an :class:`~edge.protocols.AudioSource`: int16 blocks at the front-end rate."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from edge.audio.resample import StreamResampler, to_int16
from edge.audio.wav import WavInfo, WavReader, read_info
from edge.errors import InputError
from edge.protocols import AudioBlock

log = logging.getLogger(__name__)


def resolve_channel_map(info: WavInfo, channel_map: Sequence[int] | None) -> tuple[int, ...]:
    """File channel indices to output, in order. ``None`` means all, allowed for 1 or 2 channels."""
    if channel_map is None:
        if info.channels > 2:
            raise InputError(
                f"{info.path}: has {info.channels} channels; say which to use with a channel "
                "map (e.g. --channel-map 0,1 for agent=0, customer=1)"
            )
        return tuple(range(info.channels))
    cm = tuple(int(c) for c in channel_map)
    if not cm:
        raise InputError(f"{info.path}: empty channel map")
    bad = [c for c in cm if not 0 <= c < info.channels]
    if bad:
        raise InputError(
            f"{info.path}: channel {bad[0]} does not exist (the file has {info.channels} "
            f"channel{'s' if info.channels != 1 else ''}, numbered from 0)"
        )
    return cm


class WavFileSource:
    """Reads ``path`` in blocks of ``block_frames`` input frames, selects channels, resamples to
    ``target_rate`` and yields int16 :class:`AudioBlock` objects with ``t0`` in seconds of audio.

    The header is validated in the constructor, so a bad file fails before any work starts.
    """

    def __init__(
        self,
        path: str | Path,
        block_frames: int = 4096,
        target_rate: int = 16_000,
        channel_map: Sequence[int] | None = None,
    ) -> None:
        if block_frames < 1:
            raise ValueError("block_frames must be at least 1")
        self.info = read_info(path)
        self.channel_map = resolve_channel_map(self.info, channel_map)
        self.block_frames = block_frames
        self.sample_rate = int(target_rate)
        self.channels = len(self.channel_map)
        self._reader: WavReader | None = None

    @property
    def duration_s(self) -> float:
        return self.info.duration_s

    def blocks(self) -> Iterator[AudioBlock]:
        self.close()
        self._reader = reader = WavReader(self.info.path)
        rs = StreamResampler(self.info.sample_rate, self.sample_rate, self.channels)
        cols = list(self.channel_map)
        emitted = 0
        try:
            for x in reader.blocks(self.block_frames):
                y = rs.process(x[:, cols])
                if y.shape[0]:
                    yield AudioBlock(emitted / self.sample_rate, to_int16(y), self.sample_rate)
                    emitted += y.shape[0]
            tail = rs.flush()
            if tail.shape[0]:
                yield AudioBlock(emitted / self.sample_rate, to_int16(tail), self.sample_rate)
        finally:
            self.close()

    def read_all(self) -> np.ndarray:
        """The whole file at the target rate as int16 (n, channels) (convenience for tests)."""
        parts = [b.samples for b in self.blocks()]
        if not parts:
            return np.zeros((0, self.channels), np.int16)
        return np.concatenate(parts, axis=0)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
