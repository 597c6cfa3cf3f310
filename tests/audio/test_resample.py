from __future__ import annotations

import itertools

import numpy as np

from edge.audio.resample import StreamResampler, resample


def _tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-20))


def test_anti_aliasing_44k1_to_16k():
    """A 7 kHz tone at 44.1 kHz is inside the new 8 kHz Nyquist and must pass; tones above the
    new Nyquist (9 kHz would fold to 7 kHz, 12 kHz to 4 kHz) must be removed by > 60 dB."""
    ref = _rms_db(_tone(1000, 16000, 1.0))
    for freq in (1000, 7000):
        y = resample(_tone(freq, 44100, 1.0), 44100, 16000)[1000:-1000]
        assert abs(_rms_db(y) - ref) < 0.1, freq
    for freq in (9000, 12000, 20000):
        y = resample(_tone(freq, 44100, 1.0), 44100, 16000)[1000:-1000]
        assert _rms_db(y) < ref - 60, freq


def test_streaming_equals_whole_any_chunking():
    x = np.random.default_rng(0).standard_normal(44100).astype(np.float32) * 0.1
    whole = resample(x, 44100, 16000)
    rs = StreamResampler(44100, 16000, 1)
    edges = [0, 1, 2, 100, 4097, 10000, 30011, 44100]
    parts = [rs.process(x[a:b]) for a, b in itertools.pairwise(edges)] + [rs.flush()]
    y = np.concatenate(parts)[:, 0]
    assert y.shape == whole.shape and abs(len(y) - 16000) <= 1
    np.testing.assert_allclose(y, whole, atol=1e-6)


def test_passthrough_at_equal_rates():
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    rs = StreamResampler(16000, 16000, 2)
    np.testing.assert_array_equal(rs.process(x), x)
    assert rs.flush().shape == (0, 2)
