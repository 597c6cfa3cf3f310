"""int8 vs float agreement on the card's fixed EmoDB windows, recomputed via the device path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.features.frontend import FrontEnd
from edge.model.evaluate import read_mono_16k
from edge.model.inputs import windows_from_batch
from edge.model.runtime import ArousalModel


def test_int8_agrees_with_float_on_card_fixtures(emodb_dir: Path) -> None:
    model = ArousalModel.load()
    assert model.card is not None
    items = model.card.raw["fixtures"]["windows"]
    assert len(items) == 8
    cfg = FeatureConfig()
    step = model.output_info.scale
    for it in items:
        x = read_mono_16k(emodb_dir / "wav" / it["file"], cfg.sample_rate)
        fe = FrontEnd(cfg)
        wins = windows_from_batch(FrameBatch.concat([fe.process(x), fe.flush()]), model.spec)
        got = model.logit(wins[it["window"]].x)
        # Same front-end, same windows, same int8 model: the stored int8 output comes back
        # (one output step of slack for resampler rounding differences).
        assert got == pytest.approx(it["int8_logit"], abs=step * 1.01)
        # int8 stays close to the float network it was quantised from, on the same inputs: the
        # training front-end's (the card re-read int8_logit after a later front-end change).
        at_training = it.get("int8_logit_at_training", it["int8_logit"])
        assert abs(at_training - it["float_logit"]) <= max(0.35, 0.1 * abs(it["float_logit"]))
        assert np.sign(at_training) == np.sign(it["float_logit"]) or abs(it["float_logit"]) < 0.35
        # ... and the later front-end moved no window across the decision boundary.
        assert np.sign(got) == np.sign(it["float_logit"]) or abs(it["float_logit"]) < 0.35
