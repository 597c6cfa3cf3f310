"""The runner and ``poise edge`` end to end: an espeak-ng two-channel WAV through the real
front-ends, the JSON-lines events file, realtime pacing on a fake clock, SIGTERM under a fake
systemd notify socket, and recalibrate."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

from edge.cli import main
from edge.device.baseline import BaselineStore
from edge.device.pipeline import Pipeline
from edge.device.runner import Runner
from edge.protocols import AudioBlock, FakeClock
from edge.settings import load_settings
from edge.simulate.speech import (
    CUSTOMER_SENTENCES,
    silence,
    speech_block,
    stereo,
    write_wav,
)
from tests.device.fakes import hops, scripted_factory
from tests.support.agents import saved_agents
from tests.support.edge_call import needs_espeak


@pytest.fixture(scope="module")
def monologue_wav(tmp_path_factory):
    """12 s agent turn (customer silent), then 4 s customer turn, then 3 s agent."""
    agent = np.concatenate(
        [speech_block(12.0, seed=1, gap_s=0.4), silence(4.5), speech_block(3.0, seed=2)]
    )
    customer = np.concatenate(
        [silence(12.3), speech_block(4.0, seed=3, voice="en-us+f3", sentences=CUSTOMER_SENTENCES)]
    )
    return write_wav(tmp_path_factory.mktemp("wav") / "call.wav", stereo(agent, customer))


def run_monologue_call(wav, events, state, *settings: str) -> list[dict]:
    """``poise edge run`` on ``wav`` (no cue output, no model, monologue after 8 s); the events."""
    args = ["edge", "run", "--source", f"wav:{wav}", "--cue", "none", "--events", str(events)]
    for setting in (
        "detectors.monologue.enter=8",
        f'baseline.state_file="{state}"',
        "model.enabled=false",
        *settings,
    ):
        args += ["--set", setting]
    assert main(args) == 0
    return [json.loads(x) for x in events.read_text().splitlines()]


@needs_espeak
def test_cli_run_writes_event_lines_with_monologue_on_then_off(monologue_wav, tmp_path):
    state = tmp_path / "state" / "baseline.json"
    lines = run_monologue_call(monologue_wav, tmp_path / "events.jsonl", state)
    assert lines, "no events"
    for ev in lines:
        assert set(ev) >= {"t", "kind", "call", "agent"}
        assert isinstance(ev["t"], float) and ev["kind"] in (
            "cue",
            "drift",
            "suppressed",
            "baseline",
            "metrics",
            "call",
        )
        if ev["kind"] in ("cue", "drift"):
            assert set(ev) >= {"cue", "state"}
    cues = [(e["cue"], e["state"]) for e in lines if e["kind"] == "cue"]
    assert cues == [("monologue", "on"), ("monologue", "off")]
    on, off = [e for e in lines if e["kind"] == "cue"]
    assert 8.0 <= on["t"] <= 9.5  # the turn started at ~0 s
    assert off["reason"] in ("ended", "timeout") and on["t"] < off["t"] <= 14.5
    assert list(saved_agents(state)) == ["voice-1"]  # a new voice, saved on exit
    ts = [e["t"] for e in lines]
    assert ts == sorted(ts)


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["edge", "run", "--source", "wav:/nonexistent.wav", "--cue", "none"]) == 2
    assert main(["edge", "run", "--set", "detectors.pace.speed=1"]) == 2
    assert main(["edge", "run", "--source", "tape:1", "--cue", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("poise: error:") for line in err)
    assert "detectors.pace.speed" in err[1] and "tape:1" in err[2]


def test_recalibrate_removes_the_desks_single_baseline(tmp_path, capsys):
    state = tmp_path / "baseline.json"
    state.write_text("{}")
    single = ["--set", f'baseline.state_file="{state}"', "--set", "baseline.per_agent=false"]
    assert main(["edge", "recalibrate", *single]) == 0
    assert not state.exists()
    assert "baseline reset" in capsys.readouterr().out
    assert main(["edge", "recalibrate", "ann", *single]) == 2
    assert "needs per-agent baselines" in capsys.readouterr().err


def test_recalibrate_removes_one_agents_baseline(tmp_path, capsys):
    state = tmp_path / "baseline.json"
    agents = tmp_path / "agents"
    agents.mkdir()
    for a in ("ann", "bob"):
        (agents / f"agent-{a}.json").write_text("{}")
    at = ["--set", f'baseline.state_file="{state}"']
    assert main(["edge", "recalibrate", *at]) == 2  # whose? nobody signed in by config
    err = capsys.readouterr().err
    assert err.count("poise: error:") == 1 and "(ann, bob)" in err
    assert main(["edge", "recalibrate", "bob", *at]) == 0
    assert "agent bob reset" in capsys.readouterr().out
    assert sorted(p.name for p in agents.iterdir()) == ["agent-ann.json"]
    assert main(["edge", "recalibrate", *at, "--set", 'baseline.agent="ann"']) == 0
    assert not any(agents.iterdir())
    assert main(["edge", "recalibrate", "../x", *at]) == 2
    capsys.readouterr()
    (agents / "agent-cy.json").mkdir()  # not a file: cannot be removed
    for cmd in (["edge", "recalibrate", "cy", *at], ["edge", "forget", "cy", *at]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert err.count("poise: error: cannot remove") == 1 and "Traceback" not in err


class ListSource:
    sample_rate = 16000
    channels = 2

    def __init__(self, seconds: float, stop_after: int | None = None, runner=None) -> None:
        self.seconds = seconds
        self.closed = False
        self.stop_after = stop_after
        self.runner = runner

    def blocks(self):
        for i in range(round(self.seconds / 0.1)):
            if self.stop_after is not None and i == self.stop_after:
                self.runner.stop()
            yield AudioBlock(i * 0.1, np.zeros((1600, 2), np.int16), 16000)

    def close(self) -> None:
        self.closed = True


def _pipe(seconds: float) -> Pipeline:
    n = round(seconds / 0.01)
    return Pipeline(
        load_settings(None, ["budget.min_gap_s=0"]),
        frontend_factory=scripted_factory(hops(n), hops(n, vad=0.0)),
    )


def test_realtime_paces_blocks_on_the_injected_clock():
    clock = FakeClock(50.0)
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        clock.advance(s)

    src = ListSource(3.0)
    stats = Runner(_pipe(3.0), src, [], clock, realtime=True, sleep=sleep).run()
    assert stats.blocks == 30 and src.closed
    assert clock.now() == pytest.approx(53.0)
    assert sleeps == pytest.approx([0.1] * 30)


def test_fast_replay_never_sleeps_and_stop_ends_early(tmp_path):
    clock = FakeClock()
    src = ListSource(100.0)
    store = BaselineStore(tmp_path / "b.json")
    runner = Runner(_pipe(100.0), src, [], clock, store=store, sleep=lambda s: pytest.fail("slept"))
    src.runner, src.stop_after = runner, 40
    stats = runner.run()
    assert stats.stopped and stats.blocks == 40 and src.closed
    assert store.path.exists()


@needs_espeak
def test_sigterm_under_systemd_notify(monologue_wav, tmp_path):
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
        srv.bind(str(sock_path))
        srv.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="200000")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edge",
                "edge",
                "run",
                "--source",
                f"wav:{monologue_wav}",
                "--cue",
                "none",
                "--realtime",
                "--events",
                str(tmp_path / "e.jsonl"),
                "--set",
                f'baseline.state_file="{tmp_path / "b.json"}"',
                "--set",
                'baseline.agent="ann"',
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert srv.recv(256).startswith(b"READY=1")
            assert srv.recv(256) == b"WATCHDOG=1"
            proc.send_signal(signal.SIGTERM)
            msgs: list[bytes] = []
            while not msgs or msgs[-1] != b"STOPPING=1":
                msgs.append(srv.recv(256))
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert rc == 0, proc.stderr.read() if proc.stderr else ""
    assert list(saved_agents(tmp_path / "b.json")) == ["ann"]  # saved on the way out


@needs_espeak
@pytest.mark.parametrize("batch", ["0.0", "0.5"])
def test_analysis_batch_does_not_change_cues(monologue_wav, tmp_path, batch):
    """Batching front-end calls only saves CPU: the cue timeline is the one of per-block calls."""

    def cues(analysis_batch_s: str) -> list[tuple[float, str, str]]:
        lines = run_monologue_call(
            monologue_wav,
            tmp_path / f"events-{analysis_batch_s}.jsonl",
            tmp_path / analysis_batch_s / "baseline.json",
            f"audio.analysis_batch_s={analysis_batch_s}",
        )
        return [(ev["t"], ev["cue"], ev["state"]) for ev in lines if ev["kind"] == "cue"]

    reference = cues("0.1")
    assert any(c == "monologue" for _, c, _ in reference)
    assert cues(batch) == reference
