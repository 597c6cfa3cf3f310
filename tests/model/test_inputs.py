"""The shared window builder: streaming equals whole-utterance, normalisation, speech gating."""

from __future__ import annotations

import numpy as np
import pytest

from edge.features.frames import FrameBatch
from edge.model.inputs import (
    PROSODY_CHANNELS,
    InputSpec,
    WindowBuilder,
    fit_stats,
    normalise,
    raw_rows,
    windows_from_batch,
)


def _batch(n: int, n_mels: int = 40, seed: int = 0, speech: bool = True) -> FrameBatch:
    rng = np.random.default_rng(seed)
    f0 = rng.uniform(40, 60, n).astype(np.float32)
    f0[rng.random(n) < 0.4] = np.nan
    kw: dict[str, np.ndarray] = {
        "t": (np.arange(n) + 0.5) * 0.01,
        "level_dbfs": rng.uniform(-40, -10, n).astype(np.float32),
        "vad": np.full(n, speech),
        "f0_hz": np.full(n, np.nan, np.float32),
        "f0_st": f0,
        "voicing": rng.random(n).astype(np.float32),
        "mel": rng.normal(-5, 2, (n, n_mels)).astype(np.float32),
        "alpha_ratio_db": rng.normal(-10, 3, n).astype(np.float32),
        "hammarberg_db": rng.normal(20, 3, n).astype(np.float32),
    }
    empty = FrameBatch.empty(n_mels)
    for name, col in empty.columns().items():
        if name not in kw:
            kw[name] = np.zeros(n, col.dtype)
    return FrameBatch(**kw)


def test_streaming_in_any_pieces_equals_whole() -> None:
    spec = InputSpec(mean=(0.0,) * 46, std=(2.0,) * 46)
    b = _batch(437)
    whole = windows_from_batch(b, spec)
    # 1.0 s windows every 0.5 s: ends at hops 100, 150, ..., 400
    assert [round(w.t_end, 3) for w in whole] == [
        round((e - 0.5) * 0.01, 3) for e in range(100, 401, 50)
    ]
    for cuts in ([1] * 437, [7, 93, 1, 200, 136], [437]):
        wb = WindowBuilder(spec)
        got, start = [], 0
        for c in cuts:
            got += wb.push(b.slice(start, start + c))
            start += c
        assert len(got) == len(whole)
        for a, w in zip(got, whole, strict=True):
            np.testing.assert_array_equal(a.x, w.x)
            assert a.t_end == w.t_end


def test_normalise_fills_f0_and_clips() -> None:
    spec = InputSpec()
    b = _batch(100)
    rows = raw_rows(b, 40)
    x = normalise(rows, spec)
    f0 = 40 + PROSODY_CHANNELS.index("f0_st")
    assert np.isfinite(x).all()
    assert x.shape == spec.shape
    voiced = np.isfinite(rows[:, f0])
    np.testing.assert_allclose(x[voiced, f0], np.clip(rows[voiced, f0], -6, 6))
    fitted = fit_stats([rows], spec)
    z = normalise(rows, fitted)
    assert abs(float(np.mean(z[:, :40]))) < 0.1
    assert 0.8 < float(np.std(z[:, :40])) < 1.2


def test_silent_windows_are_not_emitted_and_wrong_mels_refused() -> None:
    spec = InputSpec()
    assert windows_from_batch(_batch(300, speech=False), spec) == []
    assert len(windows_from_batch(_batch(300, speech=False), spec, skip_silent=False)) == 5
    with pytest.raises(ValueError, match="mel bands"):
        windows_from_batch(_batch(200, n_mels=20), spec)
    with pytest.raises(ValueError):
        InputSpec(mean=(0.0,) * 3)
