from __future__ import annotations

import struct

import numpy as np
import pytest

from edge.audio.wav import WavReader, read_info, read_wav
from edge.audio.wav_source import WavFileSource
from edge.errors import InputError
from edge.protocols import AudioSource
from tests.audio import wavgen

CASES = [
    # bits, float, extensible, channels, rate
    (8, False, False, 1, 8000),
    (16, False, False, 2, 16000),
    (16, False, True, 2, 44100),
    (24, False, False, 1, 22050),
    (24, False, True, 2, 48000),
    (32, False, False, 2, 44100),
    (32, True, False, 1, 48000),
    (32, True, True, 2, 16000),
    (64, True, False, 2, 8000),
    (64, True, True, 1, 22050),
]


def _signal(n: int, ch: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-0.99, 0.99, size=(n, ch))


@pytest.mark.parametrize(("bits", "is_float", "ext", "ch", "rate"), CASES)
def test_formats_read_back(tmp_path, bits, is_float, ext, ch, rate):
    rng = np.random.default_rng(bits + ch + rate)
    x = _signal(1234, ch, rng)
    p = wavgen.write(tmp_path / "a.wav", x, rate, bits, is_float, extensible=ext)
    info = read_info(p)
    assert (info.sample_rate, info.channels, info.bits_per_sample, info.frames) == (
        rate,
        ch,
        bits,
        1234,
    )
    assert info.extensible == ext
    y, r = read_wav(p)
    assert r == rate and y.shape == (1234, ch) and y.dtype == np.float32
    lsb = 1.0 / 2 ** (bits - 1) if not is_float else 1e-7
    assert np.max(np.abs(y - x)) <= max(lsb / 2 * 1.001, 1e-7) + 1e-7


def test_24bit_extremes_and_sign(tmp_path):
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1 - 2**-23])
    y, _ = read_wav(wavgen.write(tmp_path / "a.wav", x, 16000, 24))
    np.testing.assert_allclose(y[:, 0], x, atol=2**-24)


def test_streaming_blocks_equal_whole(tmp_path):
    x = _signal(5000, 2, np.random.default_rng(1))
    p = wavgen.write(tmp_path / "a.wav", x, 16000, 16)
    whole, _ = read_wav(p)
    with WavReader(p) as r:
        blocks = list(r.blocks(777))
    assert [b.shape[0] for b in blocks[:-1]] == [777] * (len(blocks) - 1)
    np.testing.assert_array_equal(np.concatenate(blocks), whole)


def test_wav_source_16k_int16_is_exact(tmp_path):
    ints = np.random.default_rng(2).integers(-32768, 32767, size=(3000, 2))
    p = wavgen.write(tmp_path / "a.wav", ints / 32768.0, 16000, 16)
    src = WavFileSource(p, block_frames=1000)
    assert isinstance(src, AudioSource)
    blocks = list(src.blocks())
    assert [b.t0 for b in blocks] == [0.0, 1000 / 16000, 2000 / 16000]
    np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks]), ints)


def test_wav_source_resamples_and_maps_channels(tmp_path):
    rate = 44100
    t = np.arange(rate) / rate
    x = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 300 * t), 0 * t], 1)
    p = wavgen.write(tmp_path / "a.wav", x, rate, 16)
    src = WavFileSource(p, block_frames=1000, channel_map=(1, 0))
    y = src.read_all()
    assert y.shape[1] == 2 and abs(y.shape[0] - 16000) <= 1
    rms = np.sqrt(np.mean((y[1000:-1000].astype(float) / 32768) ** 2, axis=0))
    np.testing.assert_allclose(rms, [0.25 / np.sqrt(2), 0.5 / np.sqrt(2)], rtol=0.01)


def test_more_than_two_channels_needs_a_map(tmp_path):
    p = wavgen.write(tmp_path / "a.wav", np.zeros((100, 4)), 16000, 16)
    with pytest.raises(InputError, match="4 channels"):
        WavFileSource(p)
    assert WavFileSource(p, channel_map=(3, 1)).channels == 2
    with pytest.raises(InputError, match="channel 4 does not exist"):
        WavFileSource(p, channel_map=(4,))


def test_not_a_wav(tmp_path):
    p = tmp_path / "x.wav"
    p.write_bytes(b"ID3\x03" + b"\0" * 100)
    with pytest.raises(InputError, match="not a WAV file"):
        read_info(p)


def test_empty(tmp_path):
    p = tmp_path / "x.wav"
    p.write_bytes(wavgen.wav_bytes(b"", channels=1, rate=16000, bits=16))
    with pytest.raises(InputError, match="empty WAV"):
        read_info(p)


def test_truncated_says_how_many_frames(tmp_path):
    p = tmp_path / "x.wav"
    data = wavgen.encode(np.zeros((100, 2)), 16, False)
    p.write_bytes(wavgen.wav_bytes(data, channels=2, rate=16000, bits=16, declared_data=4000))
    with pytest.raises(InputError, match="declares 1000 frames but only 100 are present"):
        read_info(p)


@pytest.mark.parametrize(("tag", "name"), [(7, "mu-law"), (6, "A-law"), (0x11, "IMA ADPCM")])
def test_unsupported_encoding_names_the_tag(tmp_path, tag, name):
    p = tmp_path / "x.wav"
    p.write_bytes(wavgen.wav_bytes(b"\0" * 100, channels=1, rate=8000, bits=8, tag=tag))
    with pytest.raises(InputError, match=f"0x{tag:04X} \\({name}\\)"):
        read_info(p)


def test_unsupported_inside_extensible(tmp_path):
    p = tmp_path / "x.wav"
    p.write_bytes(
        wavgen.wav_bytes(b"\0" * 100, channels=1, rate=8000, bits=8, tag=7, extensible=True)
    )
    with pytest.raises(InputError, match="mu-law"):
        read_info(p)


def test_missing_file_and_garbage_header(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_info(tmp_path / "nope.wav")
    p = tmp_path / "short.wav"
    p.write_bytes(b"RIFF" + struct.pack("<I", 4) + b"WAVE")
    with pytest.raises(InputError, match="no fmt chunk"):
        read_info(p)


def test_wav_source_upsamples_8k_without_images(tmp_path):
    rate = 8000
    t = np.arange(rate * 2) / rate
    p = wavgen.write(tmp_path / "a.wav", 0.5 * np.sin(2 * np.pi * 1000 * t), rate, 16)
    y = WavFileSource(p, block_frames=333).read_all()[:, 0].astype(np.float64) / 32768
    assert abs(y.size - 32000) <= 1
    spec = np.abs(np.fft.rfft(y[2000:30000] * np.hanning(28000))) ** 2
    freqs = np.fft.rfftfreq(28000, 1 / 16000)
    tone = spec[np.abs(freqs - 1000) < 20].sum()
    image = spec[np.abs(freqs - 7000) < 20].sum()  # 8 kHz - 1 kHz, the imaging product
    assert 10 * np.log10(image / tone) < -60
    assert np.sqrt(np.mean(y[2000:30000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
