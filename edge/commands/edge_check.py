"""``poise edge check``: what IT runs first on a new desk.

Lists the audio input devices, the capture device the settings choose and its channels, the
gpiozero pin driver, the cue puck, the arousal model and the state directory, each as one line
``ok``/``FAIL``/``info``. Exits 0 when everything the configured run needs is usable, 1 otherwise
(a bad config file is still exit 2). Every probe has its hardware injected (:class:`Probes`), so
the checks run in tests without a sound card, a Pi or a puck.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

OK, FAIL, INFO = "ok", "FAIL", "info"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    what: str
    """What was checked."""
    state: str
    """``ok``, ``FAIL`` or ``info``."""
    detail: str
    """What was found."""


@dataclass
class Probes:
    """The hardware the checks look at (real by default)."""

    pyaudio_module: Any = None
    """The ``pyaudio`` module (None: import it)."""
    board_model: Callable[[], str | None] | None = None
    """The board's model string (None: read the device tree)."""
    path_exists: Callable[[str], bool] = os.path.exists
    """Whether a device node exists (the puck's serial port)."""
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    """Environment (``STATE_DIRECTORY``, ``XDG_STATE_HOME``)."""


def register(esub: Any) -> None:
    """Add ``check`` to the ``poise edge`` actions."""
    from edge.commands.edge import _common

    p = esub.add_parser(
        "check",
        help="list audio devices, the capture device, pin driver, puck, model and state dir",
    )
    _common(p)
    p.add_argument("--source", help="wav:FILE or pyaudio:DEVICE (default: audio.source)")
    p.add_argument("--cue", help="gpio, serial:PORT, terminal or none (default: cues.output)")
    p.set_defaults(func=_check)


def _audio(settings: Any, spec: str, probes: Probes) -> list[Check]:
    from edge.audio.pyaudio_source import _input_devices, find_input_device
    from edge.errors import PoiseError

    out: list[Check] = []
    a = settings.audio
    kind, _, arg = spec.partition(":")
    if kind == "wav":
        from edge.audio.wav import read_info

        try:
            info = read_info(arg)
            role = (
                "agent only (mono)"
                if info.channels == 1
                else (f"agent = channel {a.agent_channel}, customer = channel {a.customer_channel}")
            )
            bad = info.channels > 1 and max(a.agent_channel, a.customer_channel) >= info.channels
            detail = f"{spec}: {info.channels} ch, {info.sample_rate} Hz, {role}"
            out.append(Check("capture", FAIL if bad else OK, detail))
        except PoiseError as exc:
            out.append(Check("capture", FAIL, str(exc)))
        return out
    pya = probes.pyaudio_module
    if pya is None:
        try:
            pya = importlib.import_module("pyaudio")
        except ImportError:
            return [Check("audio devices", FAIL, "PyAudio is not installed (poise[edge])")]
    pa = pya.PyAudio()
    try:
        devs = _input_devices(pa)
        listing = "; ".join(
            f"{d['index']}: {d['name']} ({d['maxInputChannels']} ch, "
            f"{int(d['defaultSampleRate'])} Hz)"
            for d in devs
        )
        out.append(Check("audio devices", OK if devs else FAIL, listing or "no input devices"))
        device: str | int | None = arg or None
        if device == "default":
            device = None
        try:
            d = find_input_device(pa, device)
            need = max(a.agent_channel, a.customer_channel) + 1
            have = int(d["maxInputChannels"])
            state = OK if have >= need else FAIL
            out.append(
                Check(
                    "capture",
                    state,
                    f"{spec} -> {d['name']}: {have} ch (agent = {a.agent_channel}, customer = "
                    f"{a.customer_channel}; needs {need}), {int(d['defaultSampleRate'])} Hz",
                )
            )
        except PoiseError as exc:
            out.append(Check("capture", FAIL, str(exc)))
    finally:
        pa.terminate()
    return out


def _cue(settings: Any, spec: str, probes: Probes) -> list[Check]:
    from edge.cues.pins import board_model, make_pin_factory, resolve_pin_factory
    from edge.errors import PoiseError

    out: list[Check] = []
    model = (probes.board_model or board_model)()
    out.append(Check("board", INFO, model or "not a Raspberry Pi (no device-tree model)"))
    driver = resolve_pin_factory(settings.cues.pin_factory, model)
    name = driver or "gpiozero default"
    if spec == "gpio":
        try:
            factory = make_pin_factory(driver)
            if factory is not None:
                factory.close()
            out.append(
                Check("pin driver", OK, f"{name} (cues.pin_factory = {settings.cues.pin_factory})")
            )
        except PoiseError as exc:
            out.append(Check("pin driver", FAIL, str(exc)))
    else:
        out.append(Check("pin driver", INFO, f"{name} (not used: cue output is {spec})"))
    port = spec.split(":", 1)[1] if spec.startswith("serial:") else "/dev/poise-puck"
    present = probes.path_exists(port)
    if spec.startswith("serial:"):
        found = "present" if present else "missing (plugged in?)"
        out.append(Check("puck", OK if present else FAIL, f"{port} {found}"))
    else:
        out.append(Check("puck", INFO, f"{port} {'present' if present else 'absent'} (not used)"))
    return out


def _model(settings: Any) -> Check:
    from edge.device.arousal import model_path
    from edge.errors import PoiseError
    from edge.model.runtime import ArousalModel

    policy = settings.policy
    needed = policy.runs("stress") or policy.runs("empathy")
    if not settings.model.enabled:
        return Check("model", INFO, "disabled (model.enabled = false): stress, empathy off")
    path = model_path(settings.model)
    try:
        loaded = ArousalModel.load(path, settings.features)
        return Check("model", OK, f"{path} ({loaded.runner.backend})")
    except PoiseError as exc:
        return Check("model", FAIL if needed else INFO, str(exc))


def _state(settings: Any, probes: Probes) -> Check:
    from edge.settings.paths import baseline_state_file

    path = baseline_state_file(settings.baseline.state_file, probes.env)
    folder = path.parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    writable = probe.is_dir() and os.access(probe, os.W_OK)
    exists = "exists" if path.exists() else "not yet written"
    can = "writable" if writable else "NOT writable"
    return Check("state", OK if writable else FAIL, f"{path} ({exists}; {folder} {can})")


def run_checks(settings: Any, source: str, cue: str, probes: Probes | None = None) -> list[Check]:
    """Every check, in report order."""
    probes = probes if probes is not None else Probes()
    return [
        *_audio(settings, source, probes),
        *_cue(settings, cue, probes),
        _model(settings),
        _state(settings, probes),
    ]


def format_checks(checks: list[Check]) -> str:
    width = max(len(c.what) for c in checks)
    return "".join(f"{c.state:>4}  {c.what:<{width}}  {c.detail}\n" for c in checks)


def _check(args: argparse.Namespace, probes: Probes | None = None) -> int:
    from edge.settings import load_settings

    settings = load_settings(args.config, args.overrides)
    checks = run_checks(
        settings, args.source or settings.audio.source, args.cue or settings.cues.output, probes
    )
    print(format_checks(checks), end="")
    failed = [c.what for c in checks if c.state == FAIL]
    print(f"{len(failed)} problem(s){': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0
