"""Training the learned syllable counter: smoke fit, Keras vs the device's numpy code, file
round trip; the full leave-one-speaker-out run against the accuracy targets (slow)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edge.errors import ModelError
from edge.features.syllables import (
    ENSEMBLE_FORMAT,
    MICRO,
    NET_FORMAT,
    SyllableCounter,
    SyllableEnsemble,
    SyllableNet,
)
from models.emodb import utterances
from models.syllable_data import build_examples
from models.syllable_fit import TrainSettings, count, fit, keras_from_net
from models.train_syllables import _read_report, loso, main, save

pytest.importorskip("keras")

SMOKE = TrainSettings(epochs=2, filters=8)


@pytest.fixture(scope="module")
def examples(emodb_dir: Path) -> list:
    utts = [u for u in utterances(emodb_dir) if u.speaker in ("03", "08")][::8]
    return build_examples(utts, variants=(("clean", 1.0), ("fast", 1.12)))


def test_examples_carry_labels_and_unit_mass_targets(examples: list) -> None:
    assert len(examples) >= 20
    for e in examples:
        assert e.raw.shape == (len(e.vad), 46) and np.isfinite(e.raw).all()
        assert e.target.sum() == pytest.approx(e.label, abs=1e-3)
    fast = {e.utt.stem: e for e in examples if e.variant == "fast"}
    for e in examples:
        if e.variant == "clean":
            f = fast[e.utt.stem]
            assert f.label == e.label and len(f.raw) < len(e.raw)  # same syllables, less time


def test_numpy_streaming_matches_keras_and_survives_the_file(
    examples: list, tmp_path: Path
) -> None:
    saved = save(fit(examples, SMOKE), tmp_path / "net", {"note": "smoke"})
    card = json.loads((tmp_path / "net.json").read_text())
    assert card["sha256"] == saved.sha256 and card["note"] == "smoke"
    assert card["format"] == NET_FORMAT and len(saved.members) == 1
    net = SyllableNet.load(tmp_path / "net.npz")
    assert net.sha256 == saved.sha256

    model = keras_from_net(net, SMOKE)
    e = examples[0]
    x = np.zeros((1, len(e.raw) + net.lookahead, e.raw.shape[1]), np.float32)
    x[0, : len(e.raw)] = (e.raw - net.mean) / net.std
    want = model.predict(x, verbose=0)[0, net.lookahead :] * e.vad
    counter = SyllableCounter(net)
    got = np.concatenate(
        [counter.push_rows(e.raw[i : i + 7], e.vad[i : i + 7]) for i in range(0, len(e.raw), 7)]
        + [counter.finish()]
    )
    assert got.shape == want.shape
    np.testing.assert_allclose(got / MICRO, want, atol=2e-5)
    assert count(net, e, block_hops=1) == count(net, e, block_hops=1000) == got.sum() / MICRO


def test_smoke_loso_scores_each_held_out_speaker(examples: list) -> None:
    report = loso(examples, replace(SMOKE, epochs=1))
    assert report["speakers"] == ["03", "08"]
    clean = report["by_variant"]["clean"]
    assert clean["files"] == sum(e.variant == "clean" for e in examples)
    assert np.isfinite(clean["mae_pct"])


def test_loso_with_two_seeds_scores_the_mean_of_their_counts(examples: list) -> None:
    report = loso(examples, replace(SMOKE, epochs=1), seeds=(0, 1))
    assert report["seeds"] == [0, 1] and set(report["by_seed"]) == {"0", "1"}
    by_seed = report["counts_by_seed"]
    clean = report["counts"]["clean"]
    assert clean and set(clean) == set(by_seed["0"]["clean"]) == set(by_seed["1"]["clean"])
    # two different nets (else the "ensemble" would be one seed twice) ...
    assert any(by_seed["0"]["clean"][k] != by_seed["1"]["clean"][k] for k in clean)
    for k, got in clean.items():  # ... and the ensemble counts their mean
        assert got == pytest.approx((by_seed["0"]["clean"][k] + by_seed["1"]["clean"][k]) / 2)
    one = report["by_seed"]["0"]["emodb"]["clean"]
    alone = loso(examples, replace(SMOKE, epochs=1, seed=0))["by_corpus"]["emodb"]["clean"]
    assert one["mae_pct"] == pytest.approx(alone["mae_pct"])  # seed 0's scores are its own


def test_an_ensemble_file_counts_the_mean_of_its_members(examples: list, tmp_path: Path) -> None:
    a, b = (fit(examples, replace(SMOKE, epochs=1, seed=k)) for k in (0, 1))
    saved = save([a, b], tmp_path / "pair", {"seeds": [0, 1]})
    card = json.loads((tmp_path / "pair.json").read_text())
    assert card["format"] == ENSEMBLE_FORMAT and len(card["members"]) == 2
    assert card["seeds"] == [0, 1] and card["sha256"] == saved.sha256
    again = SyllableEnsemble.load(tmp_path / "pair.npz")
    assert len(again.members) == 2 and again.sha256 == saved.sha256
    with pytest.raises(ModelError, match="holds 2 networks"):
        SyllableNet.load(tmp_path / "pair.npz")
    differ = 0
    for e in examples[:6]:
        ca, cb = count(saved.members[0], e), count(saved.members[1], e)
        differ += ca != cb
        # the mean of the densities, rounded per hop: within half a micro-syllable per hop
        assert count(again, e) == pytest.approx((ca + cb) / 2, abs=len(e.raw) / MICRO)
    assert differ  # two different networks, not one twice


def test_a_saved_held_out_report_is_reused_only_for_the_same_folds_seeds_and_recipe(
    examples: list, tmp_path: Path
) -> None:
    one_epoch = replace(SMOKE, epochs=1)
    report = loso(examples, one_epoch, seeds=(0, 1))
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert _read_report(path, examples, one_epoch, 10, (0, 1))["by_corpus"] == report["by_corpus"]
    with pytest.raises(SystemExit, match="not this run's"):
        _read_report(path, examples, one_epoch, 10, (0,))
    with pytest.raises(SystemExit, match=r"another recipe \(epochs"):
        _read_report(path, examples, SMOKE, 10, (0, 1))
    path.write_text(json.dumps({**report, "folds": [["03", "08"]]}))
    with pytest.raises(SystemExit, match="not this run's"):
        _read_report(path, examples, one_epoch, 10, (0, 1))
    path.write_text(json.dumps({k: v for k, v in report.items() if k != "recipe"}))
    with pytest.raises(SystemExit, match="not a held-out report"):
        _read_report(path, examples, one_epoch, 10, (0, 1))
    path.write_text(json.dumps({**report, "folds": 3}))
    with pytest.raises(SystemExit, match="not a held-out report"):
        _read_report(path, examples, one_epoch, 10, (0, 1))
    path.write_text("{}")
    with pytest.raises(SystemExit, match="not a held-out report"):
        _read_report(path, examples, one_epoch, 10, (0, 1))
    with pytest.raises(SystemExit) as exc:
        main(["--loso", "--loso-from", str(path), "--out", str(tmp_path / "net")])
    assert exc.value.code == 2 and not (tmp_path / "net.npz").exists()


def test_counts_out_without_loso_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "counts.json"
    with pytest.raises(SystemExit) as exc:
        main(["--counts-out", str(out), "--out", str(tmp_path / "net")])
    assert exc.value.code == 2
    assert "--counts-out needs --loso" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "net.npz").exists()


@pytest.mark.slow
def test_full_loso_meets_the_syllable_targets(emodb_dir: Path) -> None:
    report = loso(build_examples(utterances(emodb_dir)), TrainSettings())
    clean = report["by_variant"]["clean"]
    assert clean["files"] == 534
    assert clean["pearson_r"] >= 0.90
    assert clean["mae_pct"] <= 10.0
