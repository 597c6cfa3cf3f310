"""The streaming FrontEnd end to end (with a stand-in pitch analyser)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.errors import InputError
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.features.frontend import FrontEnd
from tests.features.fakes import AutocorrPitch, syllable_train

CFG = FeatureConfig()
SR = CFG.sample_rate
HOP = CFG.hop


def front_end(cfg: FeatureConfig = CFG) -> FrontEnd:
    return FrontEnd(cfg, AutocorrPitch(cfg))


def run(x: np.ndarray, cuts: list[int] | None = None, fe: FrontEnd | None = None) -> FrameBatch:
    fe = fe or front_end()
    bounds = [0, *(cuts or []), len(x)]
    parts = [fe.process(x[a:b]) for a, b in itertools.pairwise(bounds)]
    return FrameBatch.concat([*parts, fe.flush()])


def speechy(seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """Noise, syllables at 4/s, a 0.6 s silence, syllables at 5/s."""
    rng = np.random.default_rng(seed)
    lead = (0.001 * rng.standard_normal(SR // 2)).astype(np.float32)
    gap = (0.001 * rng.standard_normal(int(0.6 * SR))).astype(np.float32)
    half = seconds / 2
    return np.concatenate(
        [lead, syllable_train(SR, half, 4.0, seed=seed), gap, syllable_train(SR, half, 5.0, 180.0)]
    )


@pytest.mark.parametrize("n", [0, 1, HOP - 1, HOP, HOP + 1, 10 * HOP + 7, SR])
def test_hop_count_and_times(n: int) -> None:
    out = run(np.zeros(n, np.float32))
    n_hops = -(-n // HOP)
    assert len(out) == n_hops
    np.testing.assert_allclose(out.t, (np.arange(n_hops) + 0.5) * HOP / SR)
    assert out.mel.shape == (n_hops, CFG.n_mels)
    for name, arr in out.columns().items():
        assert arr.shape[0] == n_hops, name


def test_windows_are_centred_on_the_hop() -> None:
    for pos in (0, 5 * HOP + 3, 37 * HOP + HOP - 1):
        x = np.zeros(60 * HOP, np.float32)
        x[pos] = 1.0
        out = run(x)
        loud = np.flatnonzero(out.level_dbfs > -100)
        # The frame (25 ms) reaches 12.5 ms either side of the hop centre.
        centres = (np.arange(len(out)) + 0.5) * HOP
        expect = np.flatnonzero(
            (pos >= centres - CFG.frame // 2) & (pos < centres - CFG.frame // 2 + CFG.frame)
        )
        assert loud.tolist() == expect.tolist()


def test_features_of_speechlike_signal() -> None:
    x = speechy()
    out = run(x)
    voiced = np.isfinite(out.f0_hz)
    assert voiced.any()
    first = out.t < 2.5
    assert np.nanmedian(out.f0_hz[voiced & first]) == pytest.approx(150.0, rel=0.03)
    np.testing.assert_allclose(out.f0_st[voiced], 12 * np.log2(out.f0_hz[voiced] / 27.5), rtol=1e-5)
    assert np.isnan(out.f0_st[~voiced]).all() and np.isnan(out.jitter[~voiced]).all()
    assert not out.vad[out.t < 0.45].any()  # leading noise
    assert out.vad[(out.t > 0.6) & (out.t < 2.4)].mean() > 0.7
    n_nuclei = int(out.nucleus.sum())
    assert abs(n_nuclei - (4 * 2 + 5 * 2)) <= 2
    assert out.vad[out.nucleus].all() and voiced[out.nucleus].all()
    pauses = np.flatnonzero(out.pause_s >= CFG.min_pause_s)
    assert any(abs(out.t[i] - 3.1) < 0.15 for i in pauses)  # end of the 0.6 s gap
    assert np.isfinite(out.pitch_sd_st[-1]) and out.pitch_sd_st[-1] > 0.5  # 150 vs 180 Hz


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 2 * SR - 1), max_size=12, unique=True))
def test_block_size_does_not_matter(cuts: list[int]) -> None:
    x = speechy(2.0, seed=3)[: 2 * SR]
    whole, split = run(x), run(x, sorted(cuts))
    assert len(whole) == len(split)
    for name, a in whole.columns().items():
        b = split.columns()[name]
        if a.dtype == np.bool_:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=0, equal_nan=True, err_msg=name)


def test_int16_matches_float_and_two_d_mono_is_accepted() -> None:
    x = speechy(1.0)
    pcm = np.round(x * 32767).astype(np.int16)
    a, b = run(pcm), run(pcm.astype(np.float32) / 32768.0)
    np.testing.assert_array_equal(a.level_dbfs, b.level_dbfs)
    c = run(pcm[:, None])
    np.testing.assert_array_equal(a.vad, c.vad)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([0.0, np.nan], np.float32),
        np.array([0.0, np.inf]),
        np.zeros((10, 2), np.float32),
        np.zeros(10, np.int32),
        np.array(["a", "b"]),
    ],
)
def test_bad_input_is_an_input_error_and_loses_nothing(bad: np.ndarray) -> None:
    x = speechy(1.0)
    fe = front_end()
    parts = [fe.process(x[:5000])]
    with pytest.raises(InputError):
        fe.process(bad)
    parts += [fe.process(x[5000:]), fe.flush()]
    ref = run(x)
    got = FrameBatch.concat(parts)
    np.testing.assert_array_equal(got.level_dbfs, ref.level_dbfs)
    np.testing.assert_array_equal(got.nucleus, ref.nucleus)


def test_flush_resets_for_the_next_stream_and_latency_is_bounded() -> None:
    fe = front_end()
    x = speechy(1.0)
    first = run(x, fe=fe)
    again = run(x, fe=fe)
    np.testing.assert_array_equal(first.level_dbfs, again.level_dbfs)
    assert fe.samples_received == 0
    emitted = 0
    for start in range(0, len(x), 320):
        emitted += len(fe.process(x[start : start + 320]))
        heard_hops = min(start + 320, len(x)) // HOP
        assert heard_hops - fe.latency_hops - 1 <= emitted <= heard_hops


def test_pitch_frames_are_centred_and_sized_for_the_tracker() -> None:
    pitch = AutocorrPitch(CFG)
    fe = FrontEnd(CFG, pitch)
    fe.process(np.zeros(SR, np.float32))
    fe.flush()
    assert sum(pitch.calls) == SR // HOP


def test_project_pitch_tracker_plugs_in_block_size_still_irrelevant() -> None:
    pytest.importorskip("edge.features.pitch")
    x = speechy(2.0, seed=5)
    whole = run(x, fe=FrontEnd())
    cuts = sorted(np.random.default_rng(1).choice(len(x), 15, replace=False).tolist())
    split = run(x, cuts, fe=FrontEnd())
    assert len(whole) == -(-len(x) // HOP)
    voiced = np.isfinite(whole.f0_hz)
    assert np.nanmedian(whole.f0_hz[voiced & (whole.t < 2.5)]) == pytest.approx(150.0, rel=0.03)
    for name, a in whole.columns().items():
        b = split.columns()[name]
        if a.dtype == np.bool_:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=0, equal_nan=True, err_msg=name)


def test_state_stays_bounded_on_a_long_stream() -> None:
    fe = front_end()
    x = speechy(2.0)
    sizes = []
    for rep in range(20):  # 40+ s of audio in 30 ms blocks
        for start in range(0, len(x), 480):
            fe.process(x[start : start + 480])
        pending = 0 if fe._pending is None else len(fe._pending["t"])
        sizes.append((len(fe._buf), pending, len(fe._tempo._hist), len(fe._nuclei._power)))
        if rep >= 2:  # element-wise: nothing grows after the first few seconds
            early_max = [max(s[i] for s in sizes[:2]) for i in range(4)]
            assert all(now <= cap for now, cap in zip(sizes[-1], early_max, strict=True)), sizes
    assert sizes[-1][0] <= 480 + fe._left + fe._right + HOP
    assert sizes[-1][1] <= fe.latency_hops + 1


def test_min_batch_hops_changes_when_not_what() -> None:
    x = speechy(1.5, seed=2)
    blocks = [x[i : i + 160] for i in range(0, len(x), 160)]
    ref = run(x, list(range(160, len(x), 160)))
    fe = FrontEnd(CFG, AutocorrPitch(CFG), min_batch_hops=8)
    parts = [fe.process(b) for b in blocks]
    batched = FrameBatch.concat([*parts, fe.flush()])
    nonempty = [len(p) for p in parts if len(p)]
    # Analysis runs about every 8th block, and each run emits at least 8 - look-ahead hops.
    assert len(nonempty) <= len(blocks) // 8 + 1
    assert min(nonempty) >= 8 - fe.latency_hops
    assert len(batched) == len(ref)
    for name, a in ref.columns().items():
        b = batched.columns()[name]
        if a.dtype == np.bool_:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=0, equal_nan=True, err_msg=name)
    with pytest.raises(ValueError):
        FrontEnd(CFG, AutocorrPitch(CFG), min_batch_hops=0)


@pytest.mark.parametrize(
    "cfg",
    [
        FeatureConfig(sample_rate=8_000, mel_fmax_hz=3_800.0, n_mels=24),
        FeatureConfig(sample_rate=22_050, hop_s=0.02, frame_s=0.03, n_mels=128),
        FeatureConfig(hop_s=0.005, frame_s=0.02, rate_window_s=1.0, min_pause_s=0.1),
    ],
)
def test_other_settings_keep_the_contract(cfg: FeatureConfig) -> None:
    sr = cfg.sample_rate
    x = np.concatenate([np.zeros(sr // 4, np.float32), syllable_train(sr, 1.5, 4.0)])
    whole = run(x, fe=front_end(cfg))
    cuts = list(range(97, len(x), 1_013))
    split = run(x, cuts, fe=front_end(cfg))
    assert len(whole) == -(-len(x) // cfg.hop) == len(split)
    assert whole.mel.shape[1] == cfg.n_mels
    np.testing.assert_allclose(whole.t, (np.arange(len(whole)) + 0.5) * cfg.hop / sr)
    assert whole.vad.any() and whole.nucleus.any()
    for name, a in whole.columns().items():
        b = split.columns()[name]
        if a.dtype == np.bool_:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=0, equal_nan=True, err_msg=name)
