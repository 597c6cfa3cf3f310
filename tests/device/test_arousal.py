"""The arousal model behind its protocol: disabled/missing models switch off cleanly; the real
model (when present) scores one window per stride through the streaming adapter."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from edge.device.arousal import load_arousal_model
from edge.features.frames import FrameBatch
from edge.settings import ModelSettings
from tests.device.fakes import hops

MODEL = Path(__file__).resolve().parents[2] / "models" / "prosody-v1.tflite"


def test_disabled_or_missing_model_gives_none(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="edge.device.arousal"):
        assert load_arousal_model(ModelSettings(enabled=False)) is None
        assert load_arousal_model(ModelSettings(path=tmp_path / "nope.tflite")) is None
    text = " ".join(r.message for r in caplog.records)
    assert "disabled" in text and "no arousal model" in text


def test_unusable_model_is_logged_not_raised(tmp_path, caplog):
    bad = tmp_path / "m.tflite"
    bad.write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="edge.device.arousal"):
        assert load_arousal_model(ModelSettings(path=bad)) is None
    assert any("unusable" in r.message for r in caplog.records)


@pytest.mark.skipif(not MODEL.exists(), reason="no trained model in models/")
def test_real_model_streams_one_score_per_stride():
    factory = load_arousal_model(ModelSettings(path=MODEL))
    assert factory is not None
    model = factory()
    stream = hops(300, vad=1.0)
    stream = FrameBatch(**{**stream.columns(), "mel": np.full((300, 40), -5.0, np.float32)})
    ts, vs = [], []
    for a, b in ((0, 120), (120, 121), (121, 300)):  # arbitrary piece sizes
        t, v = model.push(stream.slice(a, b))
        ts += list(t)
        vs += list(v)
    expected = stream.t[[99, 149, 199, 249, 299]]
    assert np.allclose(ts, expected)
    assert np.all(np.isfinite(vs))
    # the same stream in one piece gives the same logits
    _, v2 = factory().push(stream)
    assert np.allclose(v2, vs)
