"""Agent baseline: calibration, robust reference, freeze, follow, persistence and corruption."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import numpy as np
import pytest

from edge.device.baseline import AgentBaseline, BaselineStore
from edge.model.baseline import ArousalBaseline
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


def feed_arousal(b: AgentBaseline, logits, rate: float = 5.0):
    """One 0.1 s tick of speech per logit (every tick carries one model window)."""
    for x in logits:
        b.observe(0.1, {"articulation_rate_sps": [rate], "pitch_spread_st": [2.0], "arousal": [x]})


def test_arousal_reference_is_the_models_arousal_baseline_and_freezes():
    rng = np.random.default_rng(3)
    calm = rng.normal(-4.0, 2.0, 700)
    b = AgentBaseline(S)
    feed_arousal(b, calm)
    model = ArousalBaseline()
    for x in calm:
        model.add(float(x))
    assert b.ready and b.arousal.state() == model.state()  # the last 600 windows, as the model
    centre, spread = model.centre_spread()
    ref = b.reference("arousal")
    assert ref is not None and (ref.median, ref.spread, ref.n) == (centre, spread, 600)
    assert b.arousal_relative(3.0) == model.relative(3.0)
    b.frozen = True
    feed_arousal(b, np.full(200, 20.0))
    assert b.arousal.state() == model.state()


def test_arousal_needs_calibration_and_enough_windows():
    b = AgentBaseline(S)
    feed_arousal(b, np.zeros(10))
    assert b.arousal_relative(1.0) is None  # neither calibrated nor 20 windows
    b2 = AgentBaseline(S)
    feed(b2, 60.0, 5.0)  # calibrated, but no arousal windows yet
    assert b2.ready and b2.arousal_relative(1.0) is None
    feed_arousal(b2, np.zeros(20))
    assert b2.arousal_relative(1.0) == pytest.approx(1.0 / ArousalBaseline().settings.min_spread)


def test_store_roundtrip_keeps_the_arousal_baseline(tmp_path):
    store = BaselineStore(tmp_path / "baseline.json", S)
    b = AgentBaseline(S)
    feed_arousal(b, np.random.default_rng(4).normal(0.0, 3.0, 700))
    store.save(b)
    again = store.load()
    assert again.to_dict() == b.to_dict()
    assert again.arousal_relative(5.0) == pytest.approx(b.arousal_relative(5.0), abs=1e-3)


def test_old_state_without_arousal_baseline_recalibrates_only_arousal(tmp_path, caplog):
    old = {
        "version": 1,
        "speech_s": 600.0,
        "summaries": {
            "articulation_rate_sps": [5.0] * 20,
            "pitch_spread_st": [2.0] * 20,
            "arousal": [3.0] * 20,  # raw-logit summaries of the old scoring: dropped
        },
    }
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(old))
    with caplog.at_level(logging.WARNING):
        b = BaselineStore(path, S).load()
    assert b.ready and med(b) == 5.0 and med(b, "pitch_spread_st") == 2.0
    assert len(b.arousal) == 0 and b.reference("arousal") is None
    assert any("recalibrating arousal" in r.message for r in caplog.records)
    feed_arousal(b, np.zeros(20))
    assert b.arousal_relative(0.0) == 0.0
    # a current file whose arousal part is unusable: the same, not a full recalibration
    bad = b.to_dict() | {"arousal": {"version": 99}}
    path.write_text(json.dumps(bad))
    b2 = BaselineStore(path, S).load()
    assert b2.ready and len(b2.arousal) == 0


def test_state_without_pitch_level_keeps_rate_and_spread_and_calibrates_pitch_level(tmp_path):
    b = AgentBaseline(S)
    state = b.to_dict()
    state["speech_s"] = 600.0
    state["summaries"] = {"articulation_rate_sps": [5.0] * 20, "pitch_spread_st": [2.0] * 20}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(state))  # written before the median-pitch metric existed
    loaded = BaselineStore(path, S).load()
    assert loaded.ready and med(loaded) == 5.0 and med(loaded, "pitch_spread_st") == 2.0
    assert loaded.reference("pitch_level_st") is None  # the stress pitch term waits
    for _ in range(3):
        loaded.observe(S.summary_speech_s, {"pitch_level_st": [61.0]})
    ref = loaded.reference("pitch_level_st")
    assert ref is not None and ref.median == 61.0
    # an unknown metric is still refused
    state["summaries"]["loudness"] = [1.0]
    path.write_text(json.dumps(state))
    assert BaselineStore(path, S).load().speech_s == 0.0  # corrupt: calibration restarts
