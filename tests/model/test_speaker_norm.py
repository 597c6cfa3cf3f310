"""Per-speaker input normalisation: pooled statistics, prior, forgetting, state, and the same
windows in training (fitted norm) and on the device (adapting norm)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.model.inputs import (
    PROSODY_CHANNELS,
    InputSpec,
    WindowBuilder,
    fit_speaker_norm,
    raw_rows,
    windows_from_batch,
)
from edge.model.speaker_norm import SpeakerNorm, SpeakerNormSettings
from tests.model.test_inputs import _batch

N_CH = 46
VAD = 40 + PROSODY_CHANNELS.index("vad")
F0 = 40 + PROSODY_CHANNELS.index("f0_st")
FIXED = (40 + PROSODY_CHANNELS.index("vad"), 40 + PROSODY_CHANNELS.index("voicing"))


def _norm(prior_hops: float = 1e-6, max_hops: float = 1e9) -> SpeakerNorm:
    return SpeakerNorm(
        np.zeros(N_CH),
        np.ones(N_CH),
        VAD,
        FIXED,
        SpeakerNormSettings(prior_hops=prior_hops, max_hops=max_hops, min_std_ratio=0.01),
    )


def test_pieces_pool_to_the_speech_hops_mean_and_std() -> None:
    rows = raw_rows(_batch(600, seed=1), 40)
    rows[::3, VAD] = 0.0  # a third is silence: ignored
    norm = _norm()
    for a, b in ((0, 7), (7, 250), (250, 600)):
        norm.update(rows[a:b])
    mean, std = norm.mean_std()
    speech = rows[rows[:, VAD] > 0.5].astype(np.float64)
    c = 3  # a mel band
    assert mean[c] == pytest.approx(speech[:, c].mean(), rel=1e-4)
    assert std[c] == pytest.approx(speech[:, c].std(), rel=1e-4)
    # F0 over voiced (finite) speech hops only
    f0 = speech[:, F0][np.isfinite(speech[:, F0])]
    assert mean[F0] == pytest.approx(f0.mean(), rel=1e-4)
    # binary channels keep the prior's fixed scaling
    assert (mean[VAD], std[VAD]) == (0.0, 1.0)
    assert norm.speech_hops == pytest.approx(len(speech))


def test_prior_only_then_moves_towards_the_speaker() -> None:
    norm = _norm(prior_hops=100.0)
    mean0, std0 = norm.mean_std()
    np.testing.assert_array_equal(mean0, np.zeros(N_CH, np.float32))
    np.testing.assert_array_equal(std0, np.ones(N_CH, np.float32))
    rows = np.full((100, N_CH), 4.0, np.float32)
    rows[:, VAD] = 1.0
    norm.update(rows)
    mean, std = norm.mean_std()
    assert mean[0] == pytest.approx(2.0)  # equal weight of prior and speaker
    assert std[0] == pytest.approx(np.sqrt((1.0 + 4.0 + 0.0 + 4.0) / 2))


def test_forgetting_caps_the_evidence() -> None:
    norm = _norm(max_hops=500.0)
    rows = np.zeros((400, N_CH), np.float32)
    rows[:, VAD] = 1.0
    for _ in range(5):
        norm.update(rows)
    assert norm.speech_hops == pytest.approx(500.0)
    rows[:, 0] = 10.0
    for _ in range(10):
        norm.update(rows)
    assert norm.mean_std()[0][0] > 9.0  # old evidence faded


def test_state_round_trip_and_bad_state_refused() -> None:
    norm = _norm()
    norm.update(raw_rows(_batch(300, seed=2), 40))
    other = _norm()
    other.load_state(norm.state())
    for a, b in zip(norm.mean_std(), other.mean_std(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    with pytest.raises(ValueError):
        other.load_state({"version": 1, "n": [1.0], "mean": [0.0], "m2": [0.0]})
    with pytest.raises(ValueError):
        other.load_state({**norm.state(), "version": 99})


def test_device_builder_adapts_causally_whatever_the_piece_sizes() -> None:
    spec = InputSpec(
        mean=(0.0,) * N_CH, std=(2.0,) * N_CH, speaker_norm=SpeakerNormSettings(prior_hops=50.0)
    )
    b = _batch(437, seed=3)
    whole = WindowBuilder(spec).push(b)
    for cuts in ([1] * 437, [7, 93, 1, 200, 136]):
        wb, got, start = WindowBuilder(spec), [], 0
        for c in cuts:
            got += wb.push(b.slice(start, start + c))
            start += c
        assert len(got) == len(whole) > 0
        for a, w in zip(got, whole, strict=True):
            np.testing.assert_allclose(a.x, w.x, rtol=1e-5, atol=1e-5)
    # each window saw the statistics of the hops up to its end: the first one those of 100 hops
    first = fit_speaker_norm([b.slice(0, 100)], spec)
    np.testing.assert_allclose(
        whole[0].x, windows_from_batch(b.slice(0, 100), spec, norm=first)[0].x, atol=1e-5
    )
    # the training path with the speaker's fitted statistics: a speaker far from the corpus
    # looks ordinary after normalisation (what is left is the prior's share: 50 of ~490 hops)
    trained = windows_from_batch(b, spec, norm=fit_speaker_norm([b], spec))
    shifted = _batch(437, seed=3)
    shifted.mel[:] += 8.0
    far = windows_from_batch(shifted, spec, norm=fit_speaker_norm([shifted], spec))
    assert float(np.abs(far[0].x[:, :40] - trained[0].x[:, :40]).mean()) < 0.25
    fixed = windows_from_batch(shifted, spec, norm=spec.new_speaker_norm())
    assert float(np.abs(fixed[0].x[:, :40] - trained[0].x[:, :40]).mean()) > 0.5


def test_spec_round_trips_speaker_norm_through_the_card() -> None:
    spec = InputSpec(mean=(0.0,) * N_CH, std=(1.0,) * N_CH, speaker_norm=SpeakerNormSettings())
    back = InputSpec.from_dict(spec.to_dict())
    assert back == spec
    old = InputSpec.from_dict({k: v for k, v in spec.to_dict().items() if k != "speaker_norm"})
    assert old.speaker_norm is None and old.new_speaker_norm() is None
