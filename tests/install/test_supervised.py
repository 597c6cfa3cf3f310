"""Audio that comes and goes: the supervised capture source on a fake clock, and the runner's
READY / watchdog / exit behaviour around it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from edge.audio.supervised import Backoff, CaptureLost, SupervisedSource
from edge.protocols import AudioBlock, FakeClock


class ScriptedDevice:
    """One opening of a fake device: ``n`` blocks of 0.1 s, then ``end`` ("error" or "stop")."""

    def __init__(self, clock: FakeClock, n: int, end: str, log: list[str]) -> None:
        self.clock, self.n, self.end, self.log = clock, n, end, log
        self.sample_rate, self.channels = 16000, 2

    def blocks(self):
        for i in range(self.n):
            self.clock.advance(0.1)
            yield AudioBlock(i * 0.1, np.full((1600, 2), i, np.int16), 16000)
        if self.end == "error":
            raise OSError(-9999, "Unanticipated host error")

    def close(self) -> None:
        self.log.append("close")


def supervised(script, clock, waits, backoff=None):
    """A SupervisedSource whose k-th opening follows ``script[k]`` (an exception = open fails)."""
    log: list[str] = []
    openings = iter(script)

    def open_device():
        step = next(openings)
        log.append("open")
        if isinstance(step, Exception):
            raise step
        n, end = step
        return ScriptedDevice(clock, n, end, log)

    def sleep(s):
        waits.append(s)
        clock.advance(s)

    src = SupervisedSource(
        open_device,
        clock,
        sleep,
        sample_rate=16000,
        channels=2,
        backoff=backoff or Backoff(give_up_s=20.0),
        rng=random.Random(1),
    )
    return src, log


def test_reopens_after_errors_and_unplugging_with_continuous_time():
    clock, waits = FakeClock(), list[float]()
    unplugged = OSError(-9996, "Invalid input device (no default output device)")
    src, log = supervised(
        [(3, "error"), unplugged, unplugged, (2, "stop"), (4, "error")],
        clock,
        waits,
        Backoff(give_up_s=1000.0),
    )
    got = []
    flowing = []
    for block in src.blocks():
        got.append(block)
        flowing.append(src.flowing)
        if len(got) == 9:
            src.close()
    assert [round(b.t0, 3) for b in got] == [round(0.1 * i, 3) for i in range(9)]
    assert all(flowing)
    assert src.errors == 4 and src.reopens == 2  # successful reopenings
    assert "Invalid input device" in (src.last_error or "") or src.last_error == "the stream ended"
    # backoff: 1st, 2nd, 3rd consecutive failure, then reset after audio flowed again
    initial = Backoff().initial_s
    assert len(waits) == 4
    for w, base in zip(waits, [initial, 2 * initial, 4 * initial, initial], strict=True):
        assert base * 0.75 <= w <= base * 1.25
    assert waits[0] != pytest.approx(initial)  # jittered
    assert log.count("open") == 5 and log.count("close") == 3  # every opened device closed


def test_not_flowing_while_waiting_and_gives_up_when_the_device_is_gone_for_good():
    clock, waits = FakeClock(), list[float]()
    gone = OSError(-9996, "no such device")
    src, _ = supervised([(2, "error"), *[gone] * 50], clock, waits, Backoff(give_up_s=20.0))
    it = src.blocks()
    next(it), next(it)
    assert src.flowing
    with pytest.raises(CaptureLost) as info:
        next(it)
    assert not src.flowing
    assert "no audio for 20 s" in str(info.value) and "no such device" in str(info.value)
    assert info.value.exit_code == 1
    assert sum(waits) == pytest.approx(20.0)  # the last wait is cut to the give-up time
    assert max(waits) <= Backoff().max_s * 1.25


def test_backoff_validation():
    with pytest.raises(ValueError):
        Backoff(initial_s=0)
    with pytest.raises(ValueError):
        Backoff(jitter=1.0)
    b = Backoff(initial_s=1, max_s=4, jitter=0)
    assert [b.wait(k, random.Random(0)) for k in (1, 2, 3, 4, 9)] == [1, 2, 4, 4, 4]


class Notes:
    def __init__(self):
        self.calls: list[str] = []

    def ready(self, status=""):
        self.calls.append("READY")

    def watchdog(self, now):
        self.calls.append("WATCHDOG")

    def stopping(self):
        self.calls.append("STOPPING")

    def status(self, text):
        self.calls.append("STATUS")


def test_runner_sends_ready_only_after_audio_arrives_and_exits_1_when_capture_is_lost():
    from edge.device.baseline import AgentBaseline
    from edge.device.pipeline import Pipeline
    from edge.device.runner import Runner
    from edge.settings import DeviceSettings

    clock, waits = FakeClock(), list[float]()
    gone = OSError(-9996, "gone")
    src, _ = supervised([gone, gone, (3, "error"), *[gone] * 50], clock, waits)
    notes = Notes()
    pipeline = Pipeline(DeviceSettings(), AgentBaseline(), None)
    runner = Runner(pipeline, src, [], clock, notifier=notes)  # type: ignore[arg-type]
    with pytest.raises(CaptureLost):
        runner.run()
    # nothing before the stream delivered; the watchdog fed once per block, never while waiting
    assert notes.calls[0] == "READY"
    assert notes.calls.count("WATCHDOG") == 3
    assert notes.calls[-1] == "STOPPING"
    assert len(waits) > 3


def test_overflows_add_up_across_reopened_streams():
    clock, waits = FakeClock(), list[float]()
    src, _ = supervised([(2, "error"), (2, "stop")], clock, waits, Backoff(give_up_s=1000.0))
    seen = []
    for _block in src.blocks():
        current = src._current
        assert current is not None
        current.overflows = getattr(current, "overflows", 0) + 1  # one overflow per block
        seen.append(src.overflows)
        if len(seen) == 4:
            src.close()
    assert seen == [1, 2, 3, 4]
