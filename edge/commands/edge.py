"""``poise edge run`` (the on-device loop) and ``poise edge recalibrate``."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from edge.commands import edge_agents, edge_controls
from edge.commands._common import add_setting_overrides
from edge.errors import InputError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("edge", help="the on-device cue loop (run, recalibrate)")
    esub = p.add_subparsers(dest="edge_command", metavar="ACTION", required=True)

    run = esub.add_parser("run", help="listen to the headset and give the agent calm cues")
    _common(run)
    run.add_argument("--source", help="wav:FILE or pyaudio:DEVICE (default: audio.source)")
    run.add_argument(
        "--cue", help="gpio, serial:/dev/ttyACM0, terminal or none (default: cues.output)"
    )
    run.add_argument(
        "--events", metavar="OUT.jsonl", help="write every event as a JSON line (- for stdout)"
    )
    run.add_argument(
        "--mqtt",
        metavar="URL",
        help="publish telemetry to this broker, mqtt://host:port or mqtts://host:port "
        "(default: telemetry.broker; see docs/telemetry.md)",
    )
    run.add_argument(
        "--realtime",
        action="store_true",
        help="pace a WAV source at real time (default: as fast as possible)",
    )
    run.set_defaults(func=_run)

    from edge.commands import edge_check

    edge_check.register(esub)

    rc = esub.add_parser("recalibrate", help="forget the agent's baseline (calibrate anew)")
    _common(rc)
    rc.add_argument(
        "agent",
        nargs="?",
        metavar="AGENT",
        help="whose baseline, with per-agent baselines (default: baseline.agent)",
    )
    rc.set_defaults(func=_recalibrate)
    edge_agents.register_actions(esub, _common)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="device.toml",
        help="settings file (default: built-in defaults, see docs/device.example.toml)",
    )
    add_setting_overrides(
        p, "override one setting, e.g. --set detectors.pace.enter=1.3 (repeatable)"
    )


def _settings(args: argparse.Namespace) -> Any:
    from edge.settings import load_settings

    return load_settings(args.config, args.overrides)


def make_source(spec: str, settings: Any, clock: Any = None) -> Any:
    """Build the audio source named by ``wav:FILE`` or ``pyaudio:DEVICE``.

    A mono WAV is the agent (an :class:`~edge.audio.mono.AgentOnlySource`, ``agent_only``). Live
    capture is supervised: reopened with backoff when it fails (:mod:`edge.audio.supervised`).
    """
    from edge.errors import ConfigError

    a = settings.audio
    rate = settings.features.sample_rate
    kind, _, arg = spec.partition(":")
    if kind == "wav" and arg:
        from edge.audio.mono import AgentOnlySource
        from edge.audio.wav import read_info
        from edge.audio.wav_source import WavFileSource

        info = read_info(arg)
        mono = info.channels == 1
        cmap = (0,) if mono else (a.agent_channel, a.customer_channel)
        src = WavFileSource(arg, target_rate=rate, channel_map=cmap)
        src.block_frames = max(1, round(a.block_s * src.info.sample_rate))
        return AgentOnlySource(src) if mono else src
    if kind == "pyaudio":
        import time

        from edge.audio.pyaudio_source import PyAudioSource
        from edge.audio.supervised import Backoff, SupervisedSource
        from edge.protocols import MonotonicClock

        device: str | int | None = arg or None
        if device == "default":
            device = None
        elif isinstance(device, str) and device.isdigit():
            device = int(device)

        try:  # a missing PyAudio is permanent: fail now rather than retry for 20 s
            importlib.import_module("pyaudio")
        except ImportError:
            raise ConfigError(
                "live capture needs PyAudio: install poise[edge] (on the Pi: apt install "
                "python3-pyaudio, see docs/install.md)"
            ) from None

        def open_device() -> PyAudioSource:
            return PyAudioSource(
                device,
                channels=(a.agent_channel, a.customer_channel),
                rate=rate,
                block_frames=max(1, round(a.block_s * rate)),
            )

        return SupervisedSource(
            open_device,
            clock if clock is not None else MonotonicClock(),
            time.sleep,
            sample_rate=rate,
            channels=2,
            backoff=Backoff(give_up_s=a.reopen_give_up_s),
            name=f"capture {spec}",
        )
    raise ConfigError(f"unknown audio source {spec!r} (wav:FILE or pyaudio:DEVICE)")


def make_sinks(
    args: argparse.Namespace, settings: Any, clock: Any, stack: ExitStack, stdout: Any = None
) -> list[Any]:
    """The run's event sinks: the cue output and the events file, each on its own thread behind
    a bounded queue (more sinks, such as the telemetry publisher, are appended here)."""
    from edge.cues.factory import make_cue_output
    from edge.device.cue_sink import CueSink
    from edge.device.sinks import JsonLinesSink, SupervisedSink
    from edge.errors import ConfigError

    sinks: list[Any] = []
    cue = make_cue_output(args.cue or settings.cues.output, settings.cues, clock)
    sinks.append(SupervisedSink(CueSink(cue, settings.cues.styles)))
    if args.events:
        if args.events == "-":
            out, own = (stdout if stdout is not None else sys.stdout), False
        else:
            try:
                out, own = Path(args.events).open("w", encoding="utf-8"), True  # noqa: SIM115
            except OSError as exc:
                for sink in sinks:
                    sink.close()
                raise ConfigError(f"cannot write events to {args.events}: {exc.strerror}") from None
        sinks.append(SupervisedSink(JsonLinesSink(out, own=own), maxsize=10_000))
    return sinks


def _run(args: argparse.Namespace) -> int:
    from edge.audio.mono import without_far_end
    from edge.device.arousal import load_arousal_model
    from edge.device.baseline import BaselineStore
    from edge.device.pipeline import Pipeline
    from edge.device.runner import Runner
    from edge.device.sdnotify import SdNotifier
    from edge.errors import OutputError
    from edge.fileio import StdoutGuard, refuse_same_file
    from edge.protocols import MonotonicClock

    if args.mqtt:
        args.overrides = [*args.overrides, f"telemetry.broker={args.mqtt}"]
    settings = _settings(args)
    clock = MonotonicClock()
    store = BaselineStore(settings.baseline.state_file, settings.baseline)
    fleet = _start_fleet(settings)
    if fleet is not None:
        settings = fleet.effective_settings(settings)
    if fleet is not None and fleet.model_path() is not None:
        import dataclasses

        fleet_model = dataclasses.replace(settings.model, path=fleet.model_path())
        settings = dataclasses.replace(settings, model=fleet_model)
    spec = args.source or settings.audio.source
    wav = spec[4:] if spec.startswith("wav:") else None
    refuse_same_file(args.events, [wav, args.config, store.path])
    refuse_same_file(store.path, [wav, args.config])
    with ExitStack() as stack:
        if fleet is not None:
            stack.callback(fleet.close)
        stack.enter_context(store.hold())
        source = make_source(spec, settings, clock)
        stack.callback(source.close)
        if getattr(source, "agent_only", False):
            settings, off = without_far_end(settings)
            log.warning(
                "%s is mono: it is the agent; far-end detectors off for this run: %s",
                wav,
                ", ".join(off) or "none",
            )
        policy = settings.policy
        needs_model = policy.runs("stress") or policy.runs("empathy")
        model = load_arousal_model(settings.model, settings.features, required=needs_model)
        pipe = StdoutGuard()  # `--events - | head -1`: a closed pipe stops the run cleanly
        sinks = make_sinks(args, settings, clock, stack, stdout=pipe)
        saver: Any = store
        if settings.baseline.per_agent:
            pipeline, saver = edge_agents.per_agent_pipeline(settings, model)
        else:
            pipeline = Pipeline(settings, store.load(), model)
        log.info("detectors running: %s", ", ".join(pipeline.running) or "none")
        control = None
        if fleet is None and settings.telemetry.broker:
            import time

            from edge.fleet.device import LocalControl

            control = LocalControl(time.time)  # cmd: identify, recalibrate, sign-in
        sinks += _telemetry_sinks(
            settings, clock, pipeline.running, model is not None, source, sinks, fleet, control
        )
        runner = Runner(
            pipeline,
            source,
            sinks,
            clock,
            store=saver,
            notifier=SdNotifier(),
            realtime=args.realtime,
        )
        pipe.on_broken = runner.stop
        edge_controls.wire_controls(runner, pipeline, settings, store, sinks, fleet, control)

        def _stop(signum: int, frame: Any) -> None:
            log.info("signal %d: stopping", signum)
            runner.stop()

        old_term = signal.signal(signal.SIGTERM, _stop)
        try:
            stats = runner.run()
        finally:
            signal.signal(signal.SIGTERM, old_term)
    if pipe.broken:
        raise OutputError("--events -: output closed early (broken pipe); stopped, baseline saved")
    shown = sum(1 for _, _, s in stats.cues if s == "on")
    log.info("processed %.1f s of audio, %d events, %d cues", stats.audio_s, stats.events, shown)
    return 0


def _start_fleet(settings: Any) -> Any:
    """With ``fleet.enabled``: enroll on first start and build the fleet agent; its config and
    cmd handlers join the telemetry publisher's connection (:func:`_telemetry_sinks`)."""
    if not settings.fleet.enabled:
        return None
    import time

    from edge.fleet.device import FleetRuntime

    runtime = FleetRuntime.start(settings, time.time)
    runtime.start_renewals()
    return runtime


def _telemetry_sinks(
    settings: Any,
    clock: Any,
    running: tuple[str, ...],
    model_loaded: bool,
    source: Any,
    sinks: list[Any],
    fleet: Any = None,
    control: Any = None,
) -> list[Any]:
    """The MQTT publisher's sink when ``telemetry.broker`` is set (none otherwise); its health
    reports the counters of ``sinks`` (the list the runner gets) and the audio source's. With a
    fleet runtime, its config and cmd handlers are registered before the publisher connects."""
    import time

    from edge.telemetry.health import AudioHealth
    from edge.telemetry.setup import birth_info, start_telemetry

    def sink_stats() -> dict[str, Any]:
        return {s.name: s.stats for s in sinks if hasattr(s, "stats")}

    def audio() -> AudioHealth:
        # a supervised capture source says whether audio flows and how often it reopened; a
        # WAV replay always "flows"
        return AudioHealth(
            bool(getattr(source, "flowing", True)),
            int(getattr(source, "overflows", 0) or 0),
            int(getattr(source, "reopens", 0) or 0),
        )

    version = (fleet.agent.config.version or None) if fleet is not None else None
    birth = birth_info(settings, running, model_loaded, version)
    attach = fleet.attach if fleet is not None else (control.attach if control else None)
    tele = start_telemetry(settings, birth, clock, time.time, sink_stats, audio, attach)
    return [] if tele is None else [tele.sink]


def _recalibrate(args: argparse.Namespace) -> int:
    from edge.device.agent_store import AgentStore, check_agent_id
    from edge.device.baseline import BaselineStore

    settings = _settings(args)
    bs = settings.baseline
    store = BaselineStore(bs.state_file, bs)
    if not bs.per_agent:
        if args.agent:
            raise InputError("AGENT needs per-agent baselines (baseline.per_agent = true)")
        with store.hold():
            store.reset()
        print(f"baseline reset ({store.path}); the next `poise edge run` calibrates anew")
        return 0
    agents = AgentStore(bs.agents_path, bs)
    with store.hold():  # the lock of a running loop on this desk
        agent = args.agent or bs.agent
        if not agent:
            kept = ", ".join(agents.agents()) or "none yet"
            raise InputError(
                f"this desk keeps a baseline per agent ({kept}): name one, "
                "`poise edge recalibrate AGENT`"
            )
        agent = check_agent_id(agent)
        removed = agents.forget(agent)
    print(
        f"baseline of agent {agent} reset ({agents.path_for(agent)}"
        + ("" if removed else ", there was none")
        + "); their next call calibrates anew"
    )
    return 0
