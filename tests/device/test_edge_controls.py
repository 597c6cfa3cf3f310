"""A long press of the cue puck's button reaches the pipeline on the audio thread as a sign-out
(``edge/commands/edge_controls.py``), with the real PuckCue over a fake serial line."""

from __future__ import annotations

from typing import Any

from edge.commands.edge_controls import wire_controls
from edge.cues.puck import PuckCue
from edge.device.cue_sink import CueSink
from edge.device.sinks import SupervisedSink
from edge.protocols import FakeClock
from edge.settings import CueSettings, CueStylesSettings, load_settings
from tests.device.test_puck import FakeSerial


class Runner:
    def __init__(self) -> None:
        self.between_blocks: Any = None
        self.injected: list[Any] = []

    def inject(self, events: list[Any]) -> None:
        self.injected += events


class Pipeline:
    def __init__(self) -> None:
        self.agents: list[str | None] = []

    def set_agent(self, agent: str | None) -> list[str]:
        self.agents.append(agent)
        return [f"baseline event for {agent}"]


def test_a_long_press_signs_the_agent_out_between_blocks() -> None:
    replies = {"PING": "OK PONG 0"}
    clock = FakeClock()
    puck = PuckCue(
        "/dev/ttyACM0",
        CueSettings(serial_timeout_s=0.5),
        clock,
        opener=lambda port, timeout: FakeSerial([], replies),
    )
    sink = SupervisedSink(CueSink(puck, CueStylesSettings()))
    runner, pipeline = Runner(), Pipeline()
    wire_controls(runner, pipeline, load_settings(None, []), None, [sink], None, None)
    assert runner.between_blocks is not None
    puck.clear()
    for count in ("0", "0", "1"):  # what the cue sink's thread does: tick the puck
        replies["PING"] = f"OK PONG {count}"
        clock.advance(2.0)
        puck.tick(clock.now())
        assert pipeline.agents == []  # nothing touches the pipeline off the audio thread
    runner.between_blocks(10.0)
    assert pipeline.agents == [None] and runner.injected == ["baseline event for None"]
    runner.between_blocks(10.1)
    assert pipeline.agents == [None]  # one press, one sign-out


def test_no_button_and_no_broker_leave_the_runner_alone() -> None:
    class Quiet:
        name = "cue"
        inner = CueSink(object(), CueStylesSettings())  # type: ignore[arg-type]

    runner = Runner()
    wire_controls(runner, Pipeline(), load_settings(None, []), None, [Quiet()], None, None)
    assert runner.between_blocks is None
