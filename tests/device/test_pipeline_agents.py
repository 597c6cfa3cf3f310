"""The pipeline with per-agent baselines: the voice at the start decides whose baseline is used,
a sign-in resumes the named agent's, and the runner's save writes the current agent."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.device.agent_store import AgentStore
from edge.device.agents import AgentSaver, AgentSession
from edge.device.events import BaselineEvent
from edge.device.pipeline import Pipeline
from edge.device.voice import VoiceSettings
from edge.features.frames import FrameBatch
from edge.settings import load_settings
from tests.device.fakes import blocks, scripted_factory
from tests.device.test_agents import voice_hops
from tests.device.test_pipeline import FAST, run


def _call(seconds: float, tilt: float, f0: float, seed: int) -> tuple[FrameBatch, FrameBatch]:
    n = round(seconds / 0.01)
    agent_on = (np.arange(n) % 1000) < 800
    a = voice_hops(n, tilt, f0, seed)
    a.vad[:] = agent_on
    c = voice_hops(n, 5.0, 50.0, seed + 1)
    c.vad[:] = ~agent_on & ((np.arange(n) % 1000) > 820)
    return a, c


def _pipe(store: AgentStore, call: tuple[FrameBatch, FrameBatch], agent: str | None = None):
    session = AgentSession(store, VoiceSettings(probe_speech_s=5.0), agent_id=agent)
    return Pipeline(
        load_settings(None, FAST), frontend_factory=scripted_factory(*call), agents=session
    )


def _agent_events(events: list) -> list[str]:
    return [
        e.state for e in events if isinstance(e, BaselineEvent) and e.state in ("agent", "reset")
    ]


def test_new_voice_calibrates_and_returning_voice_resumes(tmp_path: Path) -> None:
    store = AgentStore(tmp_path, load_settings(None, FAST).baseline)
    pipe = _pipe(store, _call(60, 2.0, 40.0, 1))
    events = run(pipe, 60)
    assert _agent_events(events) == ["reset"]  # a voice the device never heard: from nothing
    assert pipe.baseline.ready and pipe.agents is not None
    first = pipe.agents.current.agent_id
    AgentSaver(pipe.save_agent, tmp_path).save(pipe.baseline)
    assert store.agents() == [first]
    speech = pipe.baseline.speech_s
    # the same voice on the next shift: their baseline resumes (no calibration again)
    pipe2 = _pipe(store, _call(20, 2.0, 40.0, 2))
    assert _agent_events(run(pipe2, 20)) == ["agent"]
    assert pipe2.agents is not None and pipe2.agents.current.agent_id == first
    assert pipe2.baseline.speech_s > speech
    # a different voice: a fresh record, never the first agent's baseline
    pipe3 = _pipe(store, _call(20, 7.0, 55.0, 3))
    assert _agent_events(run(pipe3, 20)) == ["reset"]
    assert pipe3.agents is not None and pipe3.agents.current.agent_id != first
    assert not pipe3.baseline.ready


def test_sign_in_switches_baselines_mid_stream(tmp_path: Path) -> None:
    store = AgentStore(tmp_path, load_settings(None, FAST).baseline)
    pipe = _pipe(store, _call(80, 2.0, 40.0, 1), agent="ann")
    evs = []
    bl = list(blocks(80))
    for b in bl[: len(bl) // 2]:
        evs += pipe.step(b)
    ann_speech = pipe.baseline.speech_s
    assert ann_speech > 0 and pipe.agent == "ann"
    assert pipe._prosody.spread.speech.hops > 0  # ann's last speech, for her median pitch
    evs += pipe.set_agent("bob")
    assert pipe.baseline.speech_s == 0 and pipe.agent == "bob"
    assert pipe._prosody.spread.speech.hops == 0  # bob's is not measured on ann's speech
    for b in bl[len(bl) // 2 :]:
        evs += pipe.step(b)
    evs += pipe.flush()
    assert _agent_events(evs) == ["reset"]
    assert all(e.agent == "bob" for e in evs[-3:])
    pipe.save_agent()
    assert store.load("ann").baseline.speech_s == ann_speech
    assert store.load("bob").baseline.speech_s > 0
    assert "ann" in store.voices()  # the signed-in agent's voice was learned
