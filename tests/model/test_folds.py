"""Evaluation protocols are speaker-independent; the RAVDESS reader parses names and labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.emodb import Utterance
from models.folds import PROTOCOLS, folds, pooled_uars
from models.ravdess import parse_name, utterances
from models.train_syllables import speaker_folds


def _utts() -> list[Utterance]:
    out = []
    for corpus, spk in (("emodb", ["03", "08", "09"]), ("ravdess", ["r01", "r02"])):
        for s in spk:
            for k, a in enumerate(("high", "low", "high")):
                out.append(Utterance(Path(f"{s}-{k}.wav"), s, "t", "x", a, (), None, corpus=corpus))
    return out


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_fold_keeps_test_speakers_out_of_training(protocol: str) -> None:
    utts = _utts()
    fl = folds(utts, protocol)
    assert fl
    tested: list[int] = []
    for f in fl:
        train_spk = {utts[i].speaker for i in f.train}
        test_spk = {utts[i].speaker for i in f.test}
        assert train_spk and test_spk and not train_spk & test_spk
        tested += f.test
    assert len(tested) == len(set(tested))  # each file tested at most once
    if protocol == "loso-union":
        assert len(fl) == 5 and [f.name for f in fl][:4] == ["03", "r01", "08", "r02"]
    if protocol == "emodb-to-ravdess":
        assert {utts[i].corpus for i in fl[0].test} == {"ravdess"}
    with pytest.raises(ValueError):
        folds(utts, "loso-timit")


def test_pooled_uars_break_down_by_corpus() -> None:
    import numpy as np

    y = np.asarray([1, 0, 1, 0])
    scores = {"int8_raw": np.asarray([1.0, -1.0, -1.0, np.nan])}
    done = np.ones(4, bool)
    out = pooled_uars(y, scores, ["emodb", "emodb", "ravdess", "ravdess"], done)
    assert out["int8_raw"] == 0.75
    assert out["int8_raw_by_corpus"] == {"emodb": 1.0, "ravdess": 0.5}


def test_ravdess_names_and_labels(ravdess_dir: Path) -> None:
    assert parse_name("03-01-05-02-01-02-07") == {
        "emotion": "05",
        "intensity": "02",
        "statement": "01",
        "repetition": "02",
        "actor": "07",
    }
    for bad in ("03-02-05-02-01-02-07", "01-01-05-02-01-02-07", "03-01-09-01-01-01-01", "x"):
        assert parse_name(bad) is None
    utts = utterances(ravdess_dir)
    assert len(utts) == 716 and len({u.speaker for u in utts}) == 12
    assert all(u.syllable_count == 7 and u.corpus == "ravdess" for u in utts)
    arousal = {u.emotion: u.arousal for u in utts}
    assert arousal["05"] == "high" and arousal["02"] == "low" and arousal["07"] is None


def test_syllable_folds_hold_every_speaker_out_once() -> None:
    spk = ["03", "08", "09", "10"] + [f"r{i:02d}" for i in range(1, 7)]
    for n in (2, 4, 10):
        groups = speaker_folds(spk, n)
        flat = [s for g in groups for s in g]
        assert sorted(flat) == sorted(spk)
        assert all(any(not s.startswith("r") for s in g) for g in groups)
    assert speaker_folds(["03", "08"]) == [("03",), ("08",)]
