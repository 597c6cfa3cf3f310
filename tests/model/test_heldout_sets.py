"""The scenario bench's held-out speaker sets: disjoint, each speaker real, each set balanced."""

from __future__ import annotations

import itertools

import pytest

from bench import heldout
from bench.scenario_calls import SET_RESULTS, SET_SCENARIOS


def test_sets_are_disjoint_and_balanced() -> None:
    for (a, ga), (b, gb) in itertools.combinations(heldout.SETS.items(), 2):
        assert not set(ga) & set(gb), f"sets {a} and {b} share a speaker"
    for letter, group in heldout.SETS.items():
        corpora = [heldout.corpus_of(s) for s in group]
        if letter == "F":  # the last two RAVDESS actors; no EmoDB speaker is left
            assert corpora == ["ravdess", "ravdess"]
        else:
            assert corpora.count("emodb") == 2 and corpora.count("ravdess") == 2
    emodb = {s for g in heldout.SETS.values() for s in g if heldout.corpus_of(s) == "emodb"}
    ravdess = {s for g in heldout.SETS.values() for s in g if heldout.corpus_of(s) == "ravdess"}
    assert len(emodb) == 10 and len(ravdess) == 12  # every speaker of both corpora, once


def test_held_set_names_each_speakers_set() -> None:
    for group in heldout.SETS.values():
        for spk in group:
            assert heldout.held_set(spk) == group
    with pytest.raises(ValueError, match="no held-out set"):
        heldout.held_set("r13")


def test_every_other_set_has_its_calls_and_results_file() -> None:
    assert set(SET_RESULTS) == set(heldout.SETS) - {"A"}
    for letter, group in heldout.SETS.items():
        assert SET_SCENARIOS[letter] == (
            *(f"stress@{s}" for s in group),
            *(f"empathy@{s}" for s in group),
        )


def test_sets_speakers_exist_in_the_corpora() -> None:
    from models import emodb, ravdess

    speakers = {u.speaker for u in emodb.utterances()} | {u.speaker for u in ravdess.utterances()}
    for group in heldout.SETS.values():
        assert set(group) <= speakers


def test_fold_seed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(heldout.FOLD_SEED_ENV, raising=False)
    assert heldout.fold_seed() is None
    heldout.set_fold_seed(7)
    assert heldout.fold_seed() == 7
    heldout.set_fold_seed(None)
    assert heldout.fold_seed() is None
    monkeypatch.setenv(heldout.FOLD_SEED_ENV, "seven")
    with pytest.raises(ValueError, match="must be an integer"):
        heldout.fold_seed()
