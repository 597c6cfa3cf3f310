"""One baseline per agent: voice signatures, the per-agent store, sign-in and voice matching,
and ``poise edge forget``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from edge.device.agent_store import AgentStore, check_agent_id
from edge.device.agents import AgentSession
from edge.device.voice import SignatureBuilder, VoiceSettings, VoiceSignature, distance, match
from edge.errors import InputError
from edge.features.frames import FrameBatch


def voice_hops(n: int, tilt: float, f0: float, seed: int = 0, speech: bool = True) -> FrameBatch:
    """Hops of a synthetic 'voice': a log-mel spectrum with a given tilt and F0, plus noise."""
    rng = np.random.default_rng(seed)
    bands = np.arange(40, dtype=np.float32)
    mel = -5.0 - tilt * bands / 40 + 0.8 * np.sin(bands / (3.0 + tilt))
    cols = {k: np.zeros(n, v.dtype) for k, v in FrameBatch.empty(40).columns().items()}
    cols["t"] = (np.arange(n) + 0.5) * 0.01
    cols["mel"] = (mel[None, :] + rng.normal(0, 0.5, (n, 40)) + rng.normal(0, 1, (n, 1))).astype(
        np.float32
    )
    cols["vad"] = np.full(n, speech)
    cols["f0_st"] = (f0 + rng.normal(0, 1.5, n)).astype(np.float32)
    return FrameBatch(**cols)


def signature(tilt: float, f0: float, seed: int, seconds: float = 10.0) -> VoiceSignature:
    b = SignatureBuilder()
    b.push(voice_hops(int(seconds * 100), tilt, f0, seed))
    sig = b.signature()
    assert sig is not None
    return sig


def test_same_voice_is_close_and_others_far() -> None:
    s = VoiceSettings()
    a1, a2 = signature(2.0, 40.0, 1), signature(2.0, 40.0, 2)
    b = signature(6.0, 52.0, 3)
    assert distance(a1, a2, s) < s.threshold < distance(a1, b, s)
    assert match(a2, {"ann": a1, "bob": b}, s) == ("ann", pytest.approx(distance(a2, a1, s)))
    who, d = match(signature(9.0, 30.0, 4), {"ann": a1, "bob": b}, s)
    assert who is None and d > s.threshold
    assert match(a1, {}, s) == (None, float("inf"))
    assert VoiceSignature.from_dict(a1.to_dict()).shape == pytest.approx(a1.shape, abs=1e-3)


def test_silence_makes_no_signature() -> None:
    b = SignatureBuilder()
    b.push(voice_hops(500, 2.0, 40.0, speech=False))
    assert b.speech_s == 0 and b.signature() is None


def test_store_round_trip_corrupt_file_and_forget(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "agents")
    rec = store.load("ann")
    assert rec.baseline.speech_s == 0 and rec.voice is None
    rec.baseline.speech_s = 42.0
    rec.voice = signature(2.0, 40.0, 1)
    rec.input_norm = {"version": 1, "n": [1.0], "mean": [0.0], "m2": [0.0]}
    store.save(rec)
    back = store.load("ann")
    assert back.baseline.speech_s == 42.0 and back.input_norm == rec.input_norm
    assert back.voice is not None and store.voices().keys() == {"ann"}
    assert store.agents() == ["ann"] and store.new_voice_id() == "voice-1"
    store.path_for("bob").write_text("{not json", encoding="utf-8")
    assert store.load("bob").baseline.speech_s == 0  # corrupt: calibrates again
    assert store.forget("ann") and not store.forget("ann")
    assert store.agents() == ["bob"]
    for bad in ("../x", ".hidden", "", "a" * 65, "a/b"):
        with pytest.raises(InputError):
            check_agent_id(bad)


def test_sign_in_and_sign_out_keep_baselines_apart(tmp_path: Path) -> None:
    store = AgentStore(tmp_path)
    s = AgentSession(store, agent_id="ann")
    s.current.baseline.speech_s = 100.0
    change = s.set_agent("bob", input_norm={"k": 1})
    assert change.reason == "signed_in" and not change.resumed
    assert s.current.agent_id == "bob" and s.current.baseline.speech_s == 0
    assert store.load("ann").input_norm == {"k": 1}  # ann was saved on the way out
    back = s.set_agent("ann", input_norm=None)
    assert back.resumed and s.current.baseline.speech_s == 100.0
    out = s.set_agent(None, input_norm=None)
    assert out.reason == "signed_out" and s.agent_id is None
    assert s.probing  # the next speech decides, without waiting for a call to start


def test_voice_decides_who_is_at_the_desk_without_sign_in(tmp_path: Path) -> None:
    store = AgentStore(tmp_path)
    settings = VoiceSettings(probe_speech_s=5.0)
    s = AgentSession(store, settings)

    def call(tilt: float, f0: float, seed: int) -> object:
        s.start_call()
        change = None
        for k in range(10):  # 1 s pieces until the probe decides
            change = s.observe(voice_hops(100, tilt, f0, seed * 100 + k), 0.01, None) or change
        assert not s.probing
        return change

    first = call(2.0, 40.0, 1)
    assert first.reason == "new_voice" and not first.resumed  # type: ignore[attr-defined]
    ann = s.current.agent_id
    s.current.baseline.speech_s = 200.0
    same = call(2.0, 40.0, 2)
    assert same.reason == "same_voice" and s.current.agent_id == ann  # type: ignore[attr-defined]
    other = call(7.0, 55.0, 3)
    assert other.reason == "new_voice" and s.current.agent_id != ann  # type: ignore[attr-defined]
    assert s.current.baseline.speech_s == 0  # the new voice calibrates from nothing
    again = call(2.0, 40.0, 4)
    assert again.reason == "known_voice" and again.resumed  # type: ignore[attr-defined]
    assert s.current.agent_id == ann and s.current.baseline.speech_s == 200.0


def test_signed_in_agent_teaches_the_device_their_voice(tmp_path: Path) -> None:
    store = AgentStore(tmp_path)
    s = AgentSession(store, VoiceSettings(probe_speech_s=2.0), agent_id="ann")
    s.start_call()
    assert s.observe(voice_hops(300, 2.0, 40.0, 1), 0.01, None) is None
    s.save(None)
    assert "ann" in store.voices()


def test_cli_forget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "agents"
    AgentStore(d).save(AgentStore(d).fresh("ann"))
    over = ["--set", f'baseline.agents_dir="{d}"']
    assert main(["edge", "agents", *over]) == 0
    assert capsys.readouterr().out.split() == ["ann"]
    assert main(["edge", "forget", "ann", *over]) == 0
    assert not (d / "agent-ann.json").exists()
    assert main(["edge", "forget", "ann", *over]) == 1
    assert main(["edge", "forget", "../etc", *over]) == 2
    assert "poise: error: invalid agent id" in capsys.readouterr().err
