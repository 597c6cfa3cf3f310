"""Training pipeline: a tiny smoke run end to end (default suite); the full run (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.model.card import load_card
from edge.model.runtime import ArousalModel
from models.train import TrainSettings, run


def test_smoke_training_exports_a_loadable_int8_model(
    tmp_path: Path, emodb_dir: Path, ravdess_dir: Path
) -> None:
    settings = TrainSettings(
        epochs=1,
        variants=("clean", "phone"),
        speakers=("03", "08", "r01", "r02"),
        protocols=("loso-union", "ravdess-to-emodb"),
        max_folds=1,
    )
    card = run(
        settings,
        tmp_path / "smoke",
        str(emodb_dir),
        tmp_path / "cache",
        workers=1,
        ravdess_dir=str(ravdess_dir),
    )
    model_path = tmp_path / "smoke.tflite"
    assert model_path.stat().st_size == card["model"]["size_bytes"] <= 100 * 1024
    parsed = load_card(tmp_path / "smoke.json")
    assert parsed.input.dtype == parsed.output.dtype == "int8"
    assert parsed.input_spec.speaker_norm is not None
    assert card["training"]["protocols_done"] == ["loso-union", "ravdess-to-emodb"]
    ev = card["evaluation"]["loso-union"]
    assert ev["n_files"] > 30 and [f["fold"] for f in ev["folds"]] == ["03"]
    assert 0.0 <= ev["uar_int8_raw"] <= 1.0
    cross = card["evaluation"]["ravdess-to-emodb"]
    assert [f["fold"] for f in cross["folds"]] == ["ravdess->emodb"] and cross["n_files"] > 60
    model = ArousalModel.load(model_path)
    assert model.runner.input_info.shape == (1, 100, 46)
    assert len(card["fixtures"]["windows"]) == 8


@pytest.mark.slow
def test_full_training_meets_targets(tmp_path: Path, emodb_dir: Path) -> None:
    card = run(TrainSettings(protocols=("loso-emodb",)), tmp_path / "full", str(emodb_dir))
    ev = card["evaluation"]["loso-emodb"]
    assert ev["uar_int8_raw"] >= 0.90
    assert ev["uar_int8_baseline"] >= 0.965
    assert abs(ev["uar_int8_raw"] - ev["uar_float_raw"]) <= 0.01
    assert card["model"]["size_bytes"] <= 100 * 1024
