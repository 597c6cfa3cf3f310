"""int8 export: the output layer's bias correction pulls the int8 logits onto the float ones."""

from __future__ import annotations

import numpy as np
import pytest

from models import export
from models.network import NetworkSettings, build_network


@pytest.fixture(scope="module")
def net_and_windows() -> tuple[object, np.ndarray]:
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    model = build_network((40, 12), NetworkSettings(filters=(8, 8, 8)))
    rng = np.random.default_rng(1)
    # Inputs skewed to one side, as normalised log-mel windows of speech are.
    x = np.clip(rng.gamma(1.5, 0.4, (300, 40, 12)) - 0.3, -2, 2).astype(np.float32)
    y = (x[:, :, :3].mean(axis=(1, 2)) > 0.3).astype(np.float32)
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return model, x


def test_bias_correction_removes_the_mean_int8_error_and_leaves_the_model(
    net_and_windows: tuple[object, np.ndarray],
) -> None:
    model, x = net_and_windows
    before = [w.copy() for w in model.get_weights()]  # type: ignore[attr-defined]
    ref = export.float_logits(model, x)
    plain = export.int8_logits(export.to_int8_tflite(model, x, correct_bias=False), x)
    fixed = export.int8_logits(export.to_int8_tflite(model, x, correct_bias=True), x)
    err_plain = float(np.mean(plain - ref))
    err_fixed = float(np.mean(fixed - ref))
    step = float(np.ptp(ref)) / 255  # about one output quantisation step
    assert abs(err_plain) > 0.1 * step  # the plain export is biased here
    assert abs(err_fixed) < 0.2 * abs(err_plain)
    after = model.get_weights()  # type: ignore[attr-defined]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert np.array_equal(export.float_logits(model, x), ref)
