"""Agent baseline: calibration, robust reference, freeze, follow, persistence and corruption."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import numpy as np
import pytest

from edge.agent_baseline import AgentBaseline, BaselineStore
from edge.settings import BaselineSettings

S = BaselineSettings(calibration_speech_s=60.0, summary_speech_s=5.0, follow_speech_s=120.0)


def med(b: AgentBaseline, metric: str = "articulation_rate_sps") -> float:
    ref = b.reference(metric)
    assert ref is not None
    return ref.median


def feed(b: AgentBaseline, seconds: float, rate: float, spread: float = 2.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    done = []
    for _ in range(round(seconds / 0.1)):
        vals: dict[str, Any] = {
            "articulation_rate_sps": rate + 0.3 * rng.standard_normal(10),
            "pitch_spread_st": [spread],
            "arousal": [],
        }
        done.append(b.observe(0.1, vals))
    return done


def test_calibrates_after_configured_speech_and_reports_once():
    b = AgentBaseline(S)
    done = feed(b, 55.0, 5.0)
    assert not b.ready and not any(done)
    assert b.reference("articulation_rate_sps") is None
    done = feed(b, 10.0, 5.0)
    assert b.ready and sum(done) == 1
    ref = b.reference("articulation_rate_sps")
    assert ref is not None and abs(ref.median - 5.0) < 0.15 and ref.n == 13
    assert b.reference("arousal") is None  # never fed


def test_reference_is_robust_to_outlier_summaries():
    b = AgentBaseline(S)
    feed(b, 60.0, 5.0)
    feed(b, 10.0, 12.0)  # two wild summaries
    assert abs(med(b) - 5.0) < 0.2


def test_freeze_discards_and_follow_moves_slowly():
    b = AgentBaseline(S)
    feed(b, 60.0, 5.0)
    b.frozen = True
    feed(b, 300.0, 7.0)
    assert abs(med(b) - 5.0) < 0.15
    b.frozen = False
    feed(b, 30.0, 7.0)  # 6 of 18 summaries: median still the old level
    assert med(b) < 5.5
    feed(b, 200.0, 7.0)  # the 120 s follow window is now all new speech
    assert abs(med(b) - 7.0) < 0.15


def test_store_roundtrip_atomic_and_reset(tmp_path):
    store = BaselineStore(tmp_path / "sub" / "baseline.json", S)
    b = AgentBaseline(S)
    feed(b, 70.0, 4.5)
    store.save(b)
    assert [p.name for p in store.path.parent.iterdir()] == ["baseline.json"]  # no temp left
    again = store.load()
    assert again.ready and again.to_dict() == b.to_dict()
    store.reset()
    assert not store.path.exists()
    assert not store.load().ready


def test_save_replaces_atomically_via_rename(tmp_path, monkeypatch):
    store = BaselineStore(tmp_path / "baseline.json", S)
    b = AgentBaseline(S)
    feed(b, 70.0, 4.5)
    store.save(b)
    before = store.path.read_text()
    calls = []
    real = os.replace

    def spy(a, c):
        calls.append((a, c))
        real(a, c)

    monkeypatch.setattr(os, "replace", spy)
    feed(b, 20.0, 6.0)
    store.save(b)
    assert len(calls) == 1 and calls[0][1] == store.path
    assert store.path.read_text() != before


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    store = BaselineStore(tmp_path / "baseline.json", S)
    b = AgentBaseline(S)
    feed(b, 70.0, 4.5)
    store.save(b)
    before = store.path.read_bytes()

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        store.save(b)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        json.dumps({"version": 99}),
        json.dumps({"version": 1, "speech_s": 10, "summaries": {"x": []}}),
        json.dumps({"version": 1, "speech_s": -1, "summaries": {}}),
        json.dumps(
            {
                "version": 1,
                "speech_s": 10,
                "summaries": {"articulation_rate_sps": ["a"], "pitch_spread_st": [], "arousal": []},
            }
        ),
    ],
)
def test_corrupt_file_warns_and_recalibrates(tmp_path, caplog, content):
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with caplog.at_level(logging.WARNING):
        b = BaselineStore(path, S).load()
    assert not b.ready and b.speech_s == 0
    assert any("corrupt" in r.message and "recalibrating" in r.message for r in caplog.records)
