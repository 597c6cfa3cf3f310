"""``poise analyze FILE.wav``: prosody summary, conversation dynamics, JSON/CSV/PNG of a call."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from edge.errors import ConfigError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyze a recorded call (WAV): per-channel prosody and conversation dynamics",
        description=(
            "Analyze a WAV recording. Mono: the channel is the agent. Stereo: channel 0 is the "
            "agent and channel 1 the customer unless --channels names them otherwise (the first "
            "name plays the agent role in the dynamics). Any PCM/float WAV at any rate is "
            "resampled to 16 kHz."
        ),
    )
    p.add_argument("file", metavar="FILE.wav", help="the recording")
    p.add_argument(
        "--channels",
        metavar="NAMES",
        help="comma-separated channel names (default: agent for mono, agent,customer for stereo)",
    )
    p.add_argument(
        "--channel-map",
        metavar="I,J",
        help="file channels to use, numbered from 0 (needed for files with more than 2 channels)",
    )
    p.add_argument("--json", metavar="OUT.json", help="write summary, dynamics and timeline")
    p.add_argument("--frames", metavar="OUT.csv", help="write one row per 10 ms hop per channel")
    p.add_argument("--plot", metavar="OUT.png", help="write pitch/level/rate plot")
    p.add_argument(
        "--config",
        metavar="TOML",
        help=(
            "settings file; its [features] and [dynamics] tables and the own-voice keys of "
            "[audio] are used (others ignored)"
        ),
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=_run)


def _split(text: str, what: str) -> list[str]:
    items = [s.strip() for s in text.split(",")]
    if not items or any(not s for s in items):
        raise ConfigError(f"{what}: expected a comma-separated list, got {text!r}")
    return items


def _load_configs(path: str | None) -> tuple[Any, Any, Any]:
    """Front-end, dynamics and audio settings (of the audio table only the own-voice gate's
    keys are read: the others are about live capture)."""
    from edge.conversation.dynamics import DynamicsConfig
    from edge.features.config import FeatureConfig
    from edge.settings import AudioSettings
    from edge.settings.loader import from_mapping, load_toml

    if path is None:
        return FeatureConfig(), DynamicsConfig(), AudioSettings()
    data = load_toml(path)
    feats = from_mapping(FeatureConfig, data.get("features", {}), "features")
    dyn = from_mapping(DynamicsConfig, data.get("dynamics", {}), "dynamics")
    keys = ("own_voice_range_db", "own_voice_window_s")
    table = data.get("audio", {})
    own = {k: table[k] for k in keys if isinstance(table, dict) and k in table}
    return feats, dyn, from_mapping(AudioSettings, own, "audio")


def _run(args: argparse.Namespace) -> int:
    from edge.audio.wav_source import WavFileSource
    from edge.fileio import is_stdout, refuse_same_file
    from edge.recording.analyze import analyze_source, report
    from edge.recording.output import check_writable, format_summary, write_frames_csv, write_json

    outputs = {k: getattr(args, k) for k in ("json", "frames", "plot") if getattr(args, k)}
    to_stdout = [k for k, path in outputs.items() if is_stdout(path)]
    if len(to_stdout) > 1:
        raise ConfigError(f"only one output can be - (stdout), got --{' and --'.join(to_stdout)}")
    for path in outputs.values():
        check_writable(path)
        refuse_same_file(path, [args.file, args.config])
    if to_stdout:
        args.quiet = True  # stdout carries the output; the summary would corrupt it
    feature_cfg, dynamics_cfg, audio = _load_configs(args.config)

    channel_map = None
    if args.channel_map:
        try:
            channel_map = [int(c) for c in _split(args.channel_map, "--channel-map")]
        except ValueError:
            raise ConfigError(
                f"--channel-map: expected numbers like 0,1, got {args.channel_map!r}"
            ) from None
    source = WavFileSource(
        args.file, block_frames=32768, target_rate=feature_cfg.sample_rate, channel_map=channel_map
    )
    if args.channels:
        names = _split(args.channels, "--channels")
    else:
        names = ["agent"] if source.channels == 1 else ["agent", "customer"][: source.channels]
    if len(names) != source.channels:
        raise ConfigError(
            f"--channels gives {len(names)} name(s) but {args.file} provides "
            f"{source.channels} channel(s)"
        )
    bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9_.-]+", n)]
    if bad:
        raise ConfigError(f"--channels: {bad[0]!r}: use letters, digits, '_', '.' or '-'")
    if len(set(names)) != len(names):
        raise ConfigError(f"--channels: names must differ, got {args.channels!r}")
    info = source.info
    log.info(
        "%s: %s, %d Hz, %d channel(s), %.1f s",
        info.path, info.encoding, info.sample_rate, info.channels, info.duration_s,
    )  # fmt: skip

    call = analyze_source(source, names, feature_cfg, dynamics_cfg, audio=audio)
    doc = report(call)
    title = (
        f"{Path(args.file).name}: {call.duration_s:.1f} s, {info.encoding} "
        f"{info.sample_rate} Hz, {info.channels} ch"
    )
    if not args.quiet:
        print(format_summary(doc, title), end="")
    if "json" in outputs:
        doc_out = {"file": str(args.file), **doc}
        write_json(outputs["json"], doc_out)
    if "frames" in outputs:
        write_frames_csv(outputs["frames"], call)
    if "plot" in outputs:
        from edge.recording.plot import write_plot

        write_plot(outputs["plot"], call, title)
    for kind, path in outputs.items():
        log.info("wrote %s: %s", kind, path)
    return 0
