"""A sign-in on the cmd topic reaches the running loop: later events carry the agent, and with
per-agent baselines the agent's own baseline is used (a new one calibrates from nothing)."""

from __future__ import annotations

import numpy as np

from edge.device.events import BaselineEvent, Event, MetricsWindow
from edge.device.pipeline import Pipeline
from edge.device.runner import Runner
from edge.device.sinks import RecordingSink
from edge.fleet.device import LocalControl
from edge.protocols import AudioBlock, FakeClock
from edge.settings import load_settings
from tests.device.fakes import hops, scripted_factory
from tests.fleet.conftest import FakeWallClock
from tests.fleet.test_cmds import cmd


class Source:
    """30 s of blocks; before block ``at`` a cmd message arrives (as from the publisher)."""

    sample_rate, channels = 16000, 2

    def __init__(self, control: LocalControl, messages: dict[int, bytes]) -> None:
        self.control, self.messages = control, messages

    def blocks(self):
        for i in range(300):
            if i in self.messages:
                self.control.cmds.handle(self.messages[i])  # the publisher's thread in real life
            yield AudioBlock(i * 0.1, np.zeros((1600, 2), np.int16), 16000)

    def close(self) -> None:
        pass


def _run(messages: dict[int, bytes], settings: list[str]) -> list[Event]:
    wall = FakeWallClock()
    control = LocalControl(wall)
    n = 3000
    pipe = Pipeline(
        load_settings(None, settings), frontend_factory=scripted_factory(hops(n), hops(n))
    )
    rec = RecordingSink()
    runner = Runner(pipe, Source(control, messages), [rec], FakeClock())

    def between(now: float) -> None:
        control.poll(now, rec.handle, lambda: None, lambda a: runner.inject(pipe.set_agent(a)))

    runner.between_blocks = between
    runner.run()
    return rec.events


def test_sign_in_and_out_tag_the_following_events() -> None:
    wall = FakeWallClock()
    events = _run(
        {100: cmd("sign_in", "c1", wall(), agent="ann"), 200: cmd("sign_out", "c2", wall())},
        [],
    )
    windows = [e for e in events if isinstance(e, MetricsWindow)]
    agents = [w.agent for w in windows]
    assert agents[0] is None and "ann" in agents and agents[-1] is None
    switch = [e for e in events if isinstance(e, BaselineEvent) and e.state == "agent"]
    assert [e.agent for e in switch] == ["ann", None]
    assert 9.9 <= switch[0].t <= 10.2


def test_a_bad_agent_id_is_refused_and_changes_nothing() -> None:
    wall = FakeWallClock()
    events = _run({50: cmd("sign_in", "c1", wall(), agent="../etc/passwd")}, [])
    assert all(getattr(e, "agent", None) is None for e in events)


def test_per_agent_sign_in_uses_that_agents_baseline(tmp_path) -> None:
    from edge.commands.edge_agents import per_agent_pipeline

    settings = load_settings(
        None,
        [
            "baseline.per_agent=true",
            f'baseline.agents_dir="{tmp_path}"',
        ],
    )
    pipe, _saver = per_agent_pipeline(settings, None)
    before = pipe.baseline
    events = pipe.set_agent("bob")
    assert isinstance(events[0], BaselineEvent) and events[0].agent == "bob"
    assert pipe.baseline is not before and pipe.baseline.speech_s == 0.0
