"""The shipped model against its card; refusals; the tflite-runtime fallback."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from edge.errors import ModelError
from edge.features.config import FeatureConfig
from edge.model.card import DEFAULT_MODEL, card_path_for, load_card, sha256_file
from edge.model.runtime import ArousalModel

CARD = card_path_for(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def shipped() -> ArousalModel:
    return ArousalModel.load()


def _windows(model: ArousalModel, n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.normal(0, 1, (n, *model.spec.shape)).astype(np.float32)


def test_shipped_model_matches_its_card(shipped: ArousalModel) -> None:
    card = load_card(CARD)
    assert sha256_file(DEFAULT_MODEL) == card.sha256
    assert card.raw["model"]["size_bytes"] == DEFAULT_MODEL.stat().st_size <= 100 * 1024
    assert card.feature_digest == FeatureConfig().digest()
    assert card.input.shape == (1, 100, 46) and card.input.dtype == "int8"
    assert card.output.shape == (1, 1) and card.output.dtype == "int8"
    assert shipped.runner.input_info == card.input
    assert shipped.runner.output_info == card.output
    assert len(card.input_spec.mean) == 46
    done = card.raw["training"]["protocols_done"]
    assert "emodb-to-ravdess" in done and "ravdess-to-emodb" in done
    for p in done:
        ev = card.raw["evaluation"][p]
        for key in ("uar_float_raw", "uar_int8_raw", "uar_float_baseline", "uar_int8_baseline"):
            assert 0.5 < ev[key] <= 1.0
        assert p in card.raw["evaluation"]["anchor"]
    assert card.input_spec.speaker_norm is not None
    assert "5(1)(f)" in " ".join(card.raw["limits"])
    citations = " ".join(d["citation"] for d in card.raw["data"])
    assert "Burkhardt" in citations and "Livingstone" in citations
    assert "CC BY-NC-SA" in card.raw["licence"]
    logits = shipped.logits(_windows(shipped))
    assert logits.shape == (4,) and np.isfinite(logits).all()


def _copy(tmp_path: Path) -> Path:
    model = tmp_path / DEFAULT_MODEL.name
    shutil.copy(DEFAULT_MODEL, model)
    shutil.copy(CARD, card_path_for(model))
    return model


def test_refuses_a_model_that_does_not_hash_to_its_card(tmp_path: Path) -> None:
    model = _copy(tmp_path)
    blob = bytearray(model.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    model.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="sha256"):
        ArousalModel.load(model)


def test_refuses_features_other_than_the_devices(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="front-end features"):
        ArousalModel.load(config=FeatureConfig(f0_max_hz=400.0))
    model = _copy(tmp_path)
    card = json.loads(card_path_for(model).read_text())
    card["features"]["digest"] = "0" * 64
    card_path_for(model).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="front-end features"):
        ArousalModel.load(model)


def test_broken_or_missing_card_is_a_model_error(tmp_path: Path) -> None:
    model = _copy(tmp_path)
    card = json.loads(card_path_for(model).read_text())
    del card["input"]
    card_path_for(model).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="missing field 'input'"):
        ArousalModel.load(model)
    card_path_for(model).unlink()
    with pytest.raises(ModelError, match="card not found"):
        ArousalModel.load(model)


def test_falls_back_to_tflite_runtime(
    monkeypatch: pytest.MonkeyPatch, shipped: ArousalModel
) -> None:
    from ai_edge_litert.interpreter import Interpreter as RealInterpreter

    made: list[int] = []

    class FakeTfliteInterpreter(RealInterpreter):  # stands in for tflite_runtime's class
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append(int(kwargs.get("num_threads", -1)))  # type: ignore[call-overload]
            super().__init__(*args, **kwargs)

    pkg = types.ModuleType("tflite_runtime")
    mod = types.ModuleType("tflite_runtime.interpreter")
    mod.Interpreter = FakeTfliteInterpreter  # type: ignore[attr-defined]
    pkg.interpreter = mod  # type: ignore[attr-defined]
    # None in sys.modules makes `import ai_edge_litert...` raise ImportError.
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", pkg)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", mod)
    fallback = ArousalModel.load()
    assert fallback.runner.backend == "tflite_runtime.interpreter"
    assert made == [1]
    x = _windows(shipped)
    np.testing.assert_array_equal(fallback.logits(x), shipped.logits(x))


def test_no_runtime_at_all_is_a_clear_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ai_edge_litert",
        "ai_edge_litert.interpreter",
        "tflite_runtime",
        "tflite_runtime.interpreter",
    ):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ModelError, match="no TFLite runtime"):
        ArousalModel.load()
