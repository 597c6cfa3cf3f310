"""The agent-mic conditions of bench.agent_mic: each changes only the agent column, as described."""

from __future__ import annotations

import numpy as np
import pytest

from bench import heldout, mic_conditions
from edge.simulate.speech import SR


def _call(seconds: float = 30.0) -> np.ndarray:
    """A two-channel call: a tone burst every other second on the agent, noise on the far end."""
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * SR)) / SR
    agent = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.floor(t) % 2 == 0)).astype(np.float32)
    customer = (0.05 * rng.standard_normal(t.size)).astype(np.float32)
    return np.stack([agent, customer], axis=1)


def _db(a: float, b: float) -> float:
    return 20 * np.log10(a / b)


def test_active_rms_ignores_the_pauses() -> None:
    x = _call()[:, 0]
    assert mic_conditions.active_rms(x) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)
    assert mic_conditions.active_rms(np.zeros(SR, np.float32)) == 0.0


def test_quiet_sets_the_agents_calm_level_only() -> None:
    call = _call()
    call[round(20.0 * SR) :, 0] *= 4  # a louder stressed stretch after the calm one
    out = mic_conditions.apply(call, "quiet", "03", 20.0, seed=1)
    calm = mic_conditions.active_rms(out[: round(20.0 * SR), 0])
    assert _db(calm, 1.0) == pytest.approx(mic_conditions.QUIET_DBFS, abs=0.1)
    hot = _db(mic_conditions.active_rms(out[round(20.0 * SR) :, 0]), calm)
    assert hot == pytest.approx(_db(4.0, 1.0), abs=0.1)  # the stressed stretch keeps its lift
    np.testing.assert_array_equal(out[:, 1], call[:, 1])
    assert out is not call and np.abs(call[:, 0]).max() == pytest.approx(1.2, abs=1e-2)


@pytest.mark.parametrize(
    ("condition", "db"),
    [("gain_step", mic_conditions.STEP_DB), ("gain_drop", mic_conditions.DROP_DB)],
)
def test_gain_step_starts_at_its_share_of_the_calm_stretch(condition: str, db: float) -> None:
    call = _call()
    out = mic_conditions.apply(call, condition, "03", 20.0, seed=1)
    at = round(mic_conditions.STEP_AT * 20.0 * SR)
    np.testing.assert_array_equal(out[:at], call[:at])
    ratio = mic_conditions.active_rms(out[at:, 0]) / mic_conditions.active_rms(call[at:, 0])
    assert _db(ratio, 1.0) == pytest.approx(db, abs=0.1)
    np.testing.assert_array_equal(out[:, 1], call[:, 1])


def test_office_neighbours_are_outside_the_held_out_set_and_at_the_stated_level() -> None:
    for group in heldout.SETS.values():
        for spk in group:
            near = mic_conditions.neighbours(spk)
            assert len(near) == mic_conditions.OFFICE_NEIGHBOURS == len(set(near))
            assert not set(near) & set(group)
            assert sorted(heldout.corpus_of(s) for s in near) == ["emodb"] * 2 + ["ravdess"] * 2
    call = _call(40.0)
    call[round(30.0 * SR) :, 0] *= 3  # louder after the calm stretch: the room is set by the calm
    out = mic_conditions.apply(call, "office", "r11", 30.0, seed=3)
    room = out[:, 0] - call[:, 0]
    calm = mic_conditions.active_rms(call[: round(30.0 * SR), 0])
    level = _db(calm, mic_conditions.active_rms(room))
    assert level == pytest.approx(mic_conditions.OFFICE_SNR_DB, abs=0.5)
    np.testing.assert_array_equal(out[:, 1], call[:, 1])
    again = mic_conditions.apply(call, "office", "r11", 30.0, seed=3)
    np.testing.assert_array_equal(out, again)  # the same room every run


def test_clean_is_unchanged_and_unknown_conditions_are_refused() -> None:
    call = _call(4.0)
    np.testing.assert_array_equal(mic_conditions.apply(call, "clean", "03", 2.0, seed=1), call)
    with pytest.raises(ValueError, match="unknown mic condition 'tunnel'"):
        mic_conditions.apply(call, "tunnel", "03", 2.0, seed=1)


def test_agent_mic_bench_refuses_unknown_conditions_and_sets() -> None:
    from bench import agent_mic

    for argv in (["--conditions", "tunnel"], ["--voices", "AZ"], ["--conditions", ","]):
        with pytest.raises(SystemExit) as exc:
            agent_mic.main(argv)
        assert exc.value.code == 2


def test_agent_mic_summary_counts_hits_misses_and_own_false_cues() -> None:
    from bench.agent_mic import summarise

    rows = [
        {"detector": "stress", "delays_s": [4.0], "calm_s": 1800.0, "false_cues": []},
        {
            "detector": "stress",
            "delays_s": [12.5],
            "calm_s": 1800.0,
            "false_cues": [{"t": 5.0, "cue": "stress"}, {"t": 9.0, "cue": "overtalk"}],
        },
        {"detector": "stress", "delays_s": [None], "calm_s": 0.0, "false_cues": []},
    ]
    s = summarise(rows)
    assert (s["calls"], s["within_10_s"], s["missed"], s["own_false_cues"]) == (3, 1, 1, 1)
    assert s["false_cues"]["overtalk"] == 1 and s["false_cues_per_calm_hour"] == 2.0
