"""The model self-test: the new model, loaded by the device's runtime, on the reference clip.

The clip goes through the exact device code path (WAV -> 16 kHz -> front-end -> windows -> int8
model, :func:`edge.model.evaluate.file_window_logits`); the number of windows and their mean
logit must match what the fleet measured with the same code when it signed the manifest
(``expect``: ``windows``, ``mean_logit``, ``tolerance``). A model that does not load, is not the
one its card describes, or scores the clip differently fails.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from edge.features.config import FeatureConfig
from edge.fleet.model_update import ModelUpdateError


def measure(model_path: Path, clip: Path, features: FeatureConfig | None = None) -> dict[str, Any]:
    """Windows and mean logit of ``clip`` under the model at ``model_path`` (card beside it)."""
    from edge.model.evaluate import file_window_logits
    from edge.model.runtime import ArousalModel

    cfg = features if features is not None else FeatureConfig()
    model = ArousalModel.load(model_path, cfg)
    logits = file_window_logits(clip, model, cfg)
    if not logits:
        raise ModelUpdateError(f"{clip}: the reference clip has no speech window")
    mean = sum(logits) / len(logits)
    if not all(math.isfinite(v) for v in logits):
        raise ModelUpdateError("the model produced non-finite logits")
    return {"windows": len(logits), "mean_logit": round(mean, 6)}


def run_self_test(
    model_path: Path, clip: Path, expect: dict[str, Any], features: FeatureConfig | None = None
) -> dict[str, Any]:
    """Measure and compare with ``expect``; raise :class:`ModelUpdateError` on a mismatch."""
    got = measure(model_path, clip, features)
    tol = float(expect.get("tolerance", 0.05))
    if got["windows"] != expect.get("windows"):
        raise ModelUpdateError(f"{got['windows']} windows, expected {expect.get('windows')}")
    want = float(expect.get("mean_logit", math.nan))
    if not abs(got["mean_logit"] - want) <= tol:
        raise ModelUpdateError(f"mean logit {got['mean_logit']:.4f}, expected {want:.4f}±{tol}")
    return got
