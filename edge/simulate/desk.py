"""One simulated desk running the real device loop: generated calls -> Pipeline -> Runner -> sinks.

The desk is built from the same parts as ``poise edge run``: device settings (with the desk's
identity, state directory and any ``--set`` overrides), the per-agent pipeline, the cue sink
(output ``none``: nobody wears the headset) and the MQTT telemetry sink with its outbox and boot
counter in the desk's own state directory. Only the audio source differs (generated calls), and
time may run faster than real: ``speed`` scales the runner's clock and its sleeps, so a 10 s
metrics window takes 10/speed seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class ScaledClock:
    """Monotonic time running ``speed`` times faster than the real clock."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed


@dataclass(frozen=True)
class DeskSpec:
    """Who one simulated desk is and how it runs."""

    index: int
    """Desk number (also its call seed)."""
    site: str
    """Site id of its topics."""
    state_dir: Path
    """The desk's own state directory (baselines, boot counter, outbox)."""
    mqtt: str
    """Broker URL (``mqtt://host:port``)."""
    speed: float = 1.0
    """Simulated seconds per real second (1 = real time)."""
    duration_s: float | None = None
    """Seconds of audio to run (None: until stopped)."""
    overrides: tuple[str, ...] = ()
    """Extra device settings (``key.path=value``), applied after the desk's own."""
    corpus: str | None = None
    """``emodb:DIR`` / ``ravdess:DIR`` for stressed stretches (espeak-ng otherwise)."""
    call_s: float = 150.0
    """Typical call length in seconds."""
    gap_s: float = 75.0
    """Silence between calls in seconds."""

    @property
    def device(self) -> str:
        return f"desk-{self.index:02d}"

    @property
    def agent(self) -> str:
        return f"agent-{self.index:02d}"


def desk_settings(spec: DeskSpec) -> Any:
    """The device settings of ``spec`` (identity, state files, broker, then the overrides)."""
    from edge.settings import load_settings

    own = [
        f"telemetry.broker={spec.mqtt}",
        f"telemetry.site={spec.site}",
        f"telemetry.device={spec.device}",
        f"telemetry.state_dir={spec.state_dir / 'telemetry'}",
        f"baseline.state_file={spec.state_dir / 'baseline.json'}",
        f"baseline.agent={spec.agent}",
        "cues.output=none",
    ]
    return load_settings(None, [*own, *spec.overrides])


@dataclass
class DeskResult:
    """What a desk did (returned when its runner ends)."""

    device: str
    audio_s: float = 0.0
    events: int = 0
    cues: list[tuple[float, str, str]] = field(default_factory=list)


def run_desk(
    spec: DeskSpec, stop: threading.Event, on_event: Callable[[Any], None] | None = None
) -> DeskResult:
    """Run one desk until ``stop`` is set or its ``duration_s`` of audio is done."""
    from edge.commands.edge_agents import per_agent_pipeline
    from edge.cues.factory import make_cue_output
    from edge.device.arousal import load_arousal_model
    from edge.device.cue_sink import CueSink
    from edge.device.runner import Runner
    from edge.device.sinks import SupervisedSink
    from edge.simulate.desk_calls import CallPlan, DeskCalls
    from edge.simulate.source import GeneratedCallSource
    from edge.telemetry.health import AudioHealth
    from edge.telemetry.setup import birth_info, start_telemetry

    spec.state_dir.mkdir(parents=True, exist_ok=True)
    settings = desk_settings(spec)
    clock = ScaledClock(spec.speed)
    plan = CallPlan(call_s=spec.call_s, gap_s=spec.gap_s, corpus=spec.corpus)
    source = GeneratedCallSource(
        DeskCalls(spec.index + 1, plan), settings.audio.block_s, spec.duration_s
    )
    sinks: list[Any] = [
        SupervisedSink(CueSink(make_cue_output("none", settings.cues, clock), settings.cues.styles))
    ]
    if on_event is not None:
        sinks.append(_CallbackSink(on_event))
    model = load_arousal_model(settings.model, settings.features)
    pipeline, saver = per_agent_pipeline(settings, model)

    def sink_stats() -> dict[str, Any]:
        return {s.name: s.stats for s in sinks if hasattr(s, "stats")}

    birth = birth_info(settings, pipeline.running, model is not None)
    tele = start_telemetry(
        settings, birth, clock, time.time, sink_stats, lambda: AudioHealth(True, 0, 0)
    )
    if tele is not None:
        sinks.append(tele.sink)
    runner = Runner(
        pipeline,
        source,
        sinks,
        clock,
        store=saver,
        realtime=True,
        sleep=lambda s: _sleep_scaled(stop, s, spec.speed),
    )
    watcher = threading.Thread(target=_stop_when, args=(stop, runner, source), daemon=True)
    watcher.start()
    stats = runner.run()
    return DeskResult(spec.device, stats.audio_s, stats.events, list(stats.cues))


def _sleep_scaled(stop: threading.Event, simulated_s: float, speed: float) -> None:
    stop.wait(simulated_s / speed)


def _stop_when(stop: threading.Event, runner: Any, source: Any) -> None:
    stop.wait()
    runner.stop()


class _CallbackSink:
    """Hands every event to a callback (in-process observers such as a test)."""

    name = "callback"

    def __init__(self, fn: Callable[[Any], None]) -> None:
        self.fn = fn

    def handle(self, event: Any) -> None:
        self.fn(event)

    def close(self) -> None:
        pass


def run_desks(specs: Sequence[DeskSpec], stop: threading.Event) -> list[DeskResult]:
    """Run several desks on threads of this process until each ends or ``stop`` is set."""
    results: list[DeskResult] = []
    lock = threading.Lock()

    def one(spec: DeskSpec) -> None:
        try:
            r = run_desk(spec, stop)
        except Exception:
            log.exception("desk %s failed", spec.device)
            r = DeskResult(spec.device)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one, args=(s,), name=s.device) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results, key=lambda r: r.device)
