"""Per-speaker arousal baseline: robust centre, readiness, persistence, offline scoring."""

from __future__ import annotations

import numpy as np
import pytest

from edge.model.baseline import ArousalBaseline, BaselineSettings, score_relative


def test_not_ready_then_relative_to_midhinge() -> None:
    b = ArousalBaseline(BaselineSettings(capacity=100, min_windows=5, min_spread=0.1))
    assert [b.update(v) for v in (0.0, 1.0, 2.0, 3.0)] == [None] * 4
    rel = b.update(4.0)  # values 0..4: q25=1, q75=3 -> centre 2, spread 2/1.349
    assert rel == pytest.approx((4.0 - 2.0) / (2.0 / 1.349))
    assert b.relative(2.0) == pytest.approx(0.0)


def test_midhinge_sits_between_unbalanced_clusters() -> None:
    rng = np.random.default_rng(1)
    calm = rng.normal(-3, 0.3, 70)
    aroused = rng.normal(3, 0.3, 30)
    scores = score_relative([[v] for v in np.concatenate([calm, aroused])])
    pred = np.asarray(scores) > 0
    assert pred[:70].sum() == 0 and pred[70:].all()


def test_capacity_state_round_trip_and_floor() -> None:
    s = BaselineSettings(capacity=10, min_windows=2, min_spread=0.5)
    b = ArousalBaseline(s)
    for v in range(25):
        b.update(float(v))
    assert len(b) == 10
    c = ArousalBaseline.from_state(b.state(), s)
    assert c.centre_spread() == pytest.approx(b.centre_spread())
    flat = ArousalBaseline(s)
    for _ in range(5):
        flat.update(1.0)
    assert flat.centre_spread() == (1.0, 0.5)
    with pytest.raises(ValueError):
        ArousalBaseline.from_state({"version": 99})
    with pytest.raises(ValueError):
        BaselineSettings(capacity=5, min_windows=6)
