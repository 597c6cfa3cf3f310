"""The espeak-ng training speech: syllable counts read from its phoneme output, a held-out plan,
and deterministic synthesis into a cache dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.syllable_bench import TEXT, TEXT_SYLLABLES
from models import espeak_corpus as ec


def test_count_rules_on_hand_written_phonemes() -> None:
    # words split at spaces; diphthong tokens and syllabic consonants count once
    assert ec.count_nuclei("θ_ˈæ_ŋ_k j_uː f_ɔːɹ k_ˈɔː_l_ɪ_ŋ") == 5
    assert ec.count_nuclei("l_ˈɪ_ɾ_əl b_ˈʌ_ʔ_n̩") == 4  # little button
    assert ec.count_nuclei("k_ɹ_iː__ˈeɪ_t") == 2  # create: espeak's break "__" splits iː|eɪ
    assert ec.count_nuclei("v_o_r_ɾ_ˈɛ_i") == 2  # vorrei: ɛ + high i is one diphthong
    assert ec.count_nuclei("b_ʊ_o_n_dʒ_ˈɔ__r_n_o") == 3  # buongiorno
    assert ec.count_nuclei("m_ˌi__o") == 2  # mio (hiatus marked by the break)
    assert ec.count_nuclei("ð_ˈe_a") == 2  # two non-high vowels: hiatus
    assert ec.count_nuclei("_(en)_ˈaɪ_(de)") == 1  # language markers are not phonemes
    assert ec.count_nuclei("") == 0


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


@needs_espeak
@pytest.mark.parametrize(
    ("voice", "text", "syllables"),
    [
        ("en-us", "Kids are talking by the door", 7),  # RAVDESS's statement
        ("en-029", "Thank you for calling, the little button.", 10),
        ("de", "Der Lappen liegt auf dem Eisschrank.", 8),  # EmoDB a01
        ("es", "Hola, buenos días, por favor.", 9),
        ("it", "Buongiorno, vorrei parlare con qualcuno.", 12),
    ],
)
def test_counts_from_espeak_match_hand_counts(voice: str, text: str, syllables: int) -> None:
    assert ec.count_nuclei(ec.phonemes(text, voice, 170)) == syllables


@needs_espeak
@pytest.mark.parametrize("wpm", [100, 300])
def test_bench_text_counts_as_counted_by_hand(wpm: int) -> None:
    assert ec.count_nuclei(ec.phonemes(TEXT, "en", wpm)) == TEXT_SYLLABLES


def test_plan_is_seeded_and_leaves_the_benches_out() -> None:
    a, b = ec.plan(seed=3), ec.plan(seed=3)
    assert a == b and a != ec.plan(seed=4)
    assert not {p.voice for p in a} & ec.HELD_OUT_VOICES
    banned = ec._trigrams(TEXT)
    assert all(not ec._trigrams(p.text) & banned for p in a)
    rates = [p.rate for p in a]
    assert min(rates) >= ec.RATE_WPM[0] and max(rates) <= ec.RATE_WPM[1]


@needs_espeak
def test_generate_writes_a_manifest_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ec, "VOICES", (("de", "de"),))
    monkeypatch.setattr(ec, "FILES_PER_VOICE", 3)
    folder = ec.generate(tmp_path)
    rows = json.loads((folder / "manifest.json").read_text())
    assert 1 <= len(rows) <= 3
    for r in rows:
        assert r["syllables"] == ec.count_nuclei(r["ipa"]) > 0
        assert ec._seconds(folder / f"{r['stem']}.wav") <= ec.MAX_SECONDS
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    assert ec.generate(tmp_path) == folder  # cached: nothing rewritten
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp
    utts = ec.utterances(tmp_path)
    assert [u.syllable_count for u in utts] == [r["syllables"] for r in rows]
    assert all(u.corpus == "espeak" and u.speaker == "e:de" for u in utts)
