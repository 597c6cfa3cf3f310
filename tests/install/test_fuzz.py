"""Property-based tests (hypothesis) that keep the bad-input holes closed: any bytes given to the
WAV reader and any TOML given to the device config loader either work or raise the one-line
user error (InputError / ConfigError), never anything else; memory stays bounded by the block
whatever the header claims."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.audio.wav import MAX_RATE, MIN_RATE, WavReader, read_info
from edge.errors import ConfigError, InputError
from edge.settings import DeviceSettings, load_settings
from edge.settings.loader import from_mapping
from tests.audio import wavgen

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def header(tag: int, channels: int, rate: int, bits: int, align: int | None = None) -> bytes:
    block = (channels * bits // 8 if align is None else align) % 2**16
    return struct.pack("<HHIIHH", tag, channels, rate, (rate * max(block, 1)) % 2**32, block, bits)


@st.composite
def wav_files(draw: st.DrawFn) -> bytes:
    """RIFF files with plausible and implausible headers, chunk sizes and trailing garbage."""
    tag = draw(st.sampled_from([1, 3, 0xFFFE, 2, 7, 0x55, draw(st.integers(0, 0xFFFF))]))
    channels = draw(st.one_of(st.integers(0, 4), st.integers(0, 0xFFFF)))
    rate = draw(
        st.one_of(
            st.sampled_from([1, 8000, 16000, 44100, 4_000_000_000]), st.integers(0, 2**32 - 1)
        )
    )
    bits = draw(st.sampled_from([0, 8, 16, 24, 32, 64, 12]))
    fmt = header(tag, channels, rate, bits, draw(st.one_of(st.none(), st.integers(0, 0xFFFF))))
    if tag == 0xFFFE:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", draw(st.sampled_from([1, 3])))
        fmt += draw(st.sampled_from([wavgen.GUID_TAIL, bytes(14)]))
    payload = draw(st.binary(max_size=2048))
    declared = draw(st.one_of(st.just(len(payload)), st.integers(0, 2**32 - 1)))
    chunks = [b"fmt " + struct.pack("<I", len(fmt)) + fmt]
    if draw(st.booleans()):
        junk = draw(st.binary(max_size=40))
        chunks.insert(draw(st.integers(0, 1)), b"LIST" + struct.pack("<I", len(junk)) + junk)
    chunks.append(b"data" + struct.pack("<I", declared) + payload)
    if draw(st.booleans()):
        chunks.reverse()
    body = b"WAVE" + b"".join(chunks) + draw(st.binary(max_size=16))
    riff = draw(st.sampled_from([b"RIFF", b"RF64", b"RIFX"]))
    data = riff + struct.pack("<I", len(body)) + body
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


@FAST
@given(blob=wav_files())
def test_any_wav_bytes_read_or_raise_input_error(tmp_path_factory, blob):
    path = Path(tmp_path_factory.mktemp("fz")) / "f.wav"
    path.write_bytes(blob)
    try:
        info = read_info(path)
    except InputError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert MIN_RATE <= info.sample_rate <= MAX_RATE and 1 <= info.channels <= 64
    assert info.data_offset + info.frames * info.block_align <= len(blob)
    try:
        with WavReader(path) as r:
            total = 0
            for block in r.blocks(256):
                assert block.shape[0] <= 256 and block.shape[1] == info.channels
                assert block.dtype == np.float32 and np.isfinite(block).all()
                total += block.shape[0]
        assert total == info.frames
    except InputError as exc:  # NaN/Inf floats
        assert "NaN or infinite" in str(exc)


@FAST
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_are_never_a_crash(tmp_path_factory, data):
    path = Path(tmp_path_factory.mktemp("fz")) / "x.wav"
    path.write_bytes(data)
    with pytest.raises(InputError):
        read_info(path)


# -- the config loader -----------------------------------------------------------------------

SECTIONS = [
    "audio",
    "baseline",
    "budget",
    "policy",
    "cues",
    "model",
    "features",
    "detectors.pace",
    "detectors.stress",
    "detectors.flat",
    "detectors.dead_air",
]
KEYS = [
    "enter",
    "exit",
    "min_duration_s",
    "save_every_s",
    "block_s",
    "source",
    "stress",
    "detectors",
    "brightness",
    "pin_factory",
    "state_file",
    "max_cues_per_10min",
    "path",
    "agent_channel",
    "unknown_key",
    "f0_max_hz",
    "calibration_speech_s",
]
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(max_size=12),
    st.lists(st.sampled_from(["pace", "stress", "x"]), max_size=3),
    st.dictionaries(st.sampled_from(KEYS), st.integers(-5, 5), max_size=2),
)


def nest(section: str, key: str, value: object) -> dict:
    out: dict = {key: value}
    for part in reversed(section.split(".")):
        out = {part: out}
    return out


@FAST
@given(
    entries=st.lists(
        st.tuples(st.sampled_from(SECTIONS), st.sampled_from(KEYS), VALUES), max_size=4
    )
)
def test_any_config_mapping_loads_or_raises_config_error(entries):
    data: dict = {}
    for section, key, value in entries:
        node = data
        parts = section.split(".")
        for p in parts:
            node = node.setdefault(p, {})
        node[key] = value
    try:
        s = from_mapping(DeviceSettings, data)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    for name in ("pace", "stress", "flat", "dead_air"):
        det = s.detectors.get(name)
        assert math.isfinite(det.enter) and math.isfinite(det.exit) and det.enter > 0
        assert (det.exit > det.enter) if name == "flat" else (det.exit < det.enter)
    assert s.baseline.save_every_s >= 10


@FAST
@given(text=st.text(max_size=300), raw=st.binary(max_size=200))
def test_any_config_file_text_or_bytes_is_an_error_line_at_worst(tmp_path_factory, text, raw):
    folder = Path(tmp_path_factory.mktemp("cfg"))
    for i, blob in enumerate((text.encode("utf-8", "surrogatepass"), raw)):
        path = folder / f"{i}.toml"
        path.write_bytes(blob)
        try:
            load_settings(path)
        except ConfigError as exc:
            assert "\n" not in str(exc).strip() or "TOML" in str(exc)


@FAST
@given(
    setting=st.sampled_from(
        [
            "detectors.pace.enter",
            "detectors.flat.exit",
            "baseline.save_every_s",
            "cues.brightness",
            "audio.block_s",
        ]
    ),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6)),
)
def test_any_override_value_is_validated(setting, value):
    text = f"{setting}={value!r}" if isinstance(value, str) else f"{setting}={value}"
    try:
        s = load_settings(None, [text])
    except ConfigError:
        return
    leaf = s
    for part in setting.split("."):
        leaf = getattr(leaf, part) if not isinstance(leaf, dict) else leaf[part]
    assert isinstance(leaf, float) and math.isfinite(leaf)


def test_memory_is_bounded_by_the_block_not_the_header(tmp_path):
    """A header claiming a 4 GB data chunk in a 2 KB file is refused before anything is read or
    allocated (the fuzz tests above check blocks never exceed the block size)."""
    path = tmp_path / "claims.wav"
    data = np.zeros(1000, "<i2").tobytes()
    path.write_bytes(
        wavgen.wav_bytes(data, channels=1, rate=16000, bits=16, declared_data=2**32 - 2)
    )
    with pytest.raises(InputError, match="truncated"):
        read_info(path)
