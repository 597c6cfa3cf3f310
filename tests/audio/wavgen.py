"""Write WAV files byte by byte (independently of the reader under test)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


def encode(x: np.ndarray, bits: int, is_float: bool) -> bytes:
    """float64 samples in [-1, 1), shape (n, ch), to little-endian sample bytes."""
    flat = np.asarray(x, np.float64).reshape(-1)
    if is_float:
        return flat.astype("<f4" if bits == 32 else "<f8").tobytes()
    if bits == 8:
        return np.clip(np.round(flat * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    scale = 2 ** (bits - 1)
    ints = np.clip(np.round(flat * scale), -scale, scale - 1).astype(np.int64)
    if bits == 24:
        u = (ints & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
        return u.tobytes()
    return ints.astype("<i2" if bits == 16 else "<i4").tobytes()


def wav_bytes(
    data: bytes,
    *,
    channels: int,
    rate: int,
    bits: int,
    tag: int = 1,
    extensible: bool = False,
    declared_data: int | None = None,
    extra_chunk: bool = True,
) -> bytes:
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + GUID_TAIL
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:  # an odd-sized LIST chunk with a pad byte, to exercise chunk walking
        body = b"INFOabc"
        chunks += b"LIST" + struct.pack("<I", len(body)) + body + b"\0"
    size = len(data) if declared_data is None else declared_data
    chunks += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def write(path: Path, x: np.ndarray, rate: int, bits: int, is_float: bool = False, **kw) -> Path:
    x2 = x[:, None] if x.ndim == 1 else x
    tag = 3 if is_float else 1
    data = encode(x2, bits, is_float)
    path.write_bytes(wav_bytes(data, channels=x2.shape[1], rate=rate, bits=bits, tag=tag, **kw))
    return path
