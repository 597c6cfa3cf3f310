"""A small, strict RIFF/WAVE reader that streams blocks of float32 samples.

Supported encodings: 8-bit unsigned PCM, 16/24/32-bit signed PCM, 32/64-bit IEEE float, each also
inside ``WAVE_FORMAT_EXTENSIBLE``; any channel count and sample rate (choosing channels is the
caller's business). Samples come back as float32 in [-1, 1) (floats as stored, unclipped), shape
``(frames, channels)``.

Every problem with the file is an :class:`~edge.errors.InputError` with one line naming the file:
not a WAV, no ``fmt``/``data`` chunk, no audio frames, a truncated data chunk (the message says how
many frames are actually there; nothing is read from a truncated file, so no analysis silently runs
on part of a call), or an unsupported encoding (the message names the format tag, e.g. mu-law).

Headers are not trusted: a sample rate outside :data:`MIN_RATE`..:data:`MAX_RATE` or more than
:data:`MAX_CHANNELS` channels is refused before anything is allocated, and samples are read in
blocks, so memory is bounded by the block size, never by what the header claims. Only regular
files are read: a pipe, FIFO or device (``<(cat f.wav)``, ``/dev/stdin`` from a pipe) is refused
with a message saying so, without waiting for a writer. Float samples that are NaN or infinite
are refused naming the file and the time of the first one.
"""

from __future__ import annotations

import logging
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from edge.errors import InputError

log = logging.getLogger(__name__)

FORMAT_PCM = 0x0001
FORMAT_IEEE_FLOAT = 0x0003
FORMAT_EXTENSIBLE = 0xFFFE

#: Names of format tags we refuse, for the error message.
KNOWN_UNSUPPORTED = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
    0x0161: "WMA",
    0x2000: "AC-3",
    0xF1AC: "FLAC",
}

#: Lowest and highest sample rate accepted (Hz): below, a 96 KB file would resample to hours of
#: audio; above, a block would hold a second of nothing.
MIN_RATE = 4_000
MAX_RATE = 768_000
#: Most channels accepted in one file.
MAX_CHANNELS = 64

_PCM_BITS = (8, 16, 24, 32)
_FLOAT_BITS = (32, 64)
_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


@dataclass(frozen=True)
class WavInfo:
    """What the header of a WAV file says (after validation)."""

    path: Path
    """The file."""
    format_tag: int
    """Effective encoding: 1 (PCM) or 3 (IEEE float), also when wrapped in EXTENSIBLE."""
    extensible: bool
    """True when the header used WAVE_FORMAT_EXTENSIBLE."""
    sample_rate: int
    """Frames per second."""
    channels: int
    """Interleaved channels per frame."""
    bits_per_sample: int
    """Container bits per sample (8, 16, 24, 32 or 64)."""
    frames: int
    """Number of complete frames in the data chunk."""
    data_offset: int
    """Byte offset of the first sample."""

    @property
    def block_align(self) -> int:
        """Bytes per frame."""
        return self.channels * self.bits_per_sample // 8

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def encoding(self) -> str:
        """Human-readable encoding, e.g. ``'24-bit PCM'`` or ``'32-bit float'``."""
        kind = "float" if self.format_tag == FORMAT_IEEE_FLOAT else "PCM"
        return f"{self.bits_per_sample}-bit {kind}"


def _format_name(tag: int) -> str:
    name = KNOWN_UNSUPPORTED.get(tag)
    return f"format tag 0x{tag:04X} ({name})" if name else f"format tag 0x{tag:04X}"


def _parse_fmt(path: Path, body: bytes) -> tuple[int, bool, int, int, int]:
    """Return (format_tag, extensible, channels, sample_rate, bits_per_sample)."""
    if len(body) < 16:
        raise InputError(f"{path}: malformed WAV: fmt chunk is only {len(body)} bytes")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", body[:16])
    extensible = tag == FORMAT_EXTENSIBLE
    if extensible:
        if len(body) < 40:
            raise InputError(f"{path}: malformed WAV: EXTENSIBLE fmt chunk is {len(body)} bytes")
        guid = body[24:40]
        sub_tag = struct.unpack("<H", guid[:2])[0]
        if guid[2:] != _GUID_TAIL:
            raise InputError(
                f"{path}: unsupported WAV encoding: EXTENSIBLE sub-format {guid.hex()}"
            )
        tag = sub_tag
    if tag not in (FORMAT_PCM, FORMAT_IEEE_FLOAT):
        raise InputError(
            f"{path}: unsupported WAV encoding: {_format_name(tag)}; "
            "convert to PCM or float first (e.g. sox in.wav -e signed -b 16 out.wav)"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise InputError(
            f"{path}: implausible WAV header: {channels} channels (at most {MAX_CHANNELS})"
        )
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InputError(
            f"{path}: implausible WAV header: sample rate {rate} Hz "
            f"(accepted: {MIN_RATE}..{MAX_RATE} Hz)"
        )
    allowed = _PCM_BITS if tag == FORMAT_PCM else _FLOAT_BITS
    if bits not in allowed:
        kind = "PCM" if tag == FORMAT_PCM else "float"
        raise InputError(f"{path}: unsupported WAV encoding: {bits}-bit {kind}")
    if block_align != channels * bits // 8:
        raise InputError(
            f"{path}: malformed WAV: block align {block_align} does not match "
            f"{channels} channels x {bits} bits"
        )
    return tag, extensible, channels, rate, bits


def open_regular(path: str | Path) -> BinaryIO:
    """Open ``path`` for reading, refusing anything but a regular file (without blocking on a
    FIFO that has no writer)."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a WAV file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot open: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{p}: is a directory, not a WAV file")
        if not stat.S_ISREG(mode):
            raise InputError(
                f"{p}: not a regular file (a pipe, FIFO or device); the WAV reader needs to "
                "seek, so save the recording to a file first"
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_info(path: str | Path) -> WavInfo:
    """Parse and validate the header of ``path``; raises :class:`InputError` on any problem."""
    p = Path(path)
    try:
        with open_regular(p) as fh:
            return _read_info(p, fh)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a WAV file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None


def _read_info(p: Path, fh: BinaryIO) -> WavInfo:
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(0)
    head = fh.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise InputError(f"{p}: not a WAV file (no RIFF/WAVE header)")
    if head[:4] == b"RF64":
        raise InputError(f"{p}: RF64 (WAV over 4 GB) is not supported")
    fmt: tuple[int, bool, int, int, int] | None = None
    pos = 12
    while pos + 8 <= size:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            break
        chunk_id, chunk_size = struct.unpack("<4sI", header)
        body_start = pos + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(p, fh.read(min(chunk_size, 1024)))
        elif chunk_id == b"data":
            if fmt is None:
                raise InputError(f"{p}: malformed WAV: data chunk before fmt chunk")
            tag, extensible, channels, rate, bits = fmt
            align = channels * bits // 8
            present = size - body_start
            if chunk_size > present:
                raise InputError(
                    f"{p}: truncated WAV: data chunk declares {chunk_size // align} frames "
                    f"but only {present // align} are present"
                )
            frames = chunk_size // align
            if chunk_size % align:
                log.warning("%s: data chunk ends with a partial frame; ignoring it", p)
            if frames == 0:
                raise InputError(f"{p}: empty WAV: no audio frames")
            return WavInfo(p, tag, extensible, rate, channels, bits, frames, body_start)
        pos = body_start + chunk_size + (chunk_size & 1)
    if fmt is None:
        raise InputError(f"{p}: malformed WAV: no fmt chunk")
    raise InputError(f"{p}: empty WAV: no data chunk")


def decode(raw: bytes, info: WavInfo, first_frame: int = 0) -> npt.NDArray[np.float32]:
    """Turn whole frames of raw sample bytes into float32 of shape (frames, channels).

    Float samples that are NaN or infinite (or float64 beyond float32's range) raise
    :class:`InputError` naming the file and the time of the first one (``first_frame`` is the
    index of the block's first frame in the file).
    """
    bits, ch = info.bits_per_sample, info.channels
    if info.format_tag == FORMAT_IEEE_FLOAT:
        wide = np.frombuffer(raw, "<f4" if bits == 32 else "<f8")
        with np.errstate(over="ignore", invalid="ignore"):
            x = wide.astype(np.float32)
        bad = ~np.isfinite(x)
        if bad.any():
            at = first_frame + int(np.argmax(bad)) // ch
            raise InputError(
                f"{info.path}: float samples that are NaN or infinite (first at "
                f"{at / info.sample_rate:.3f} s, frame {at}); refusing to analyse them"
            )
    elif bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif bits == 16:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = (v << 8) >> 8  # sign-extend the top byte
        x = v.astype(np.float32) / 8388608.0
    else:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    return x.reshape(-1, ch)


class WavReader:
    """Streams a validated WAV file as float32 blocks; use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.info = read_info(path)
        self._fh: BinaryIO | None = open_regular(self.info.path)
        self._fh.seek(self.info.data_offset)
        self._left = self.info.frames

    def read(self, frames: int) -> npt.NDArray[np.float32]:
        """Up to ``frames`` frames, shape (n, channels); n == 0 at the end."""
        if self._fh is None:
            raise ValueError("reader is closed")
        n = min(max(frames, 0), self._left)
        raw = self._fh.read(n * self.info.block_align)
        got = len(raw) // self.info.block_align
        if got < n:  # the file shrank after the header was checked
            raise InputError(f"{self.info.path}: truncated WAV: file ended while reading")
        first = self.info.frames - self._left
        self._left -= got
        return decode(raw[: got * self.info.block_align], self.info, first)

    def blocks(self, block_frames: int) -> Iterator[npt.NDArray[np.float32]]:
        """Consecutive blocks of ``block_frames`` frames (the last may be shorter)."""
        if block_frames < 1:
            raise ValueError("block_frames must be at least 1")
        while True:
            x = self.read(block_frames)
            if x.shape[0] == 0:
                return
            yield x

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> WavReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_wav(path: str | Path) -> tuple[npt.NDArray[np.float32], int]:
    """The whole file as float32 (frames, channels) and its sample rate."""
    with WavReader(path) as r:
        return r.read(r.info.frames), r.info.sample_rate


def write_wav(path: str | Path, samples: npt.NDArray[np.int16], sample_rate: int) -> None:
    """Write int16 samples, shape (n,) or (n, channels), as 16-bit PCM."""
    import wave

    x = np.asarray(samples, dtype="<i2")
    if x.ndim == 1:
        x = x[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(int(x.shape[1]))
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(np.ascontiguousarray(x).tobytes())
