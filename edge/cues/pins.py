"""Which gpiozero pin driver the GPIO cue uses (``cues.pin_factory``), chosen explicitly.

On Raspberry Pi OS Bookworm and Trixie the working driver for PWM is ``lgpio`` (Debian package
``python3-lgpio``, or ``pip install lgpio``); left to itself gpiozero may try drivers that are
absent and the LED never lights. ``auto`` therefore means ``lgpio`` on a Raspberry Pi (read from
the device-tree model string) and gpiozero's own default elsewhere. A driver that cannot be
loaded is a :class:`~edge.errors.ConfigError` naming the package to install.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from edge.errors import ConfigError

log = logging.getLogger(__name__)

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")

#: Setting value -> (module, class) in gpiozero, and what provides the driver.
FACTORIES: dict[str, tuple[str, str, str]] = {
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory", "apt install python3-lgpio (or pip lgpio)"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory", "apt install python3-rpi-lgpio"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory", "apt install python3-pigpio pigpiod"),
    "native": ("gpiozero.pins.native", "NativeFactory", "gpiozero itself"),
    "mock": ("gpiozero.pins.mock", "MockFactory", "gpiozero itself"),
}


def board_model(path: Path = DEVICE_TREE_MODEL) -> str | None:
    """The board's model string (``Raspberry Pi 4 Model B Rev 1.5``), or None off a board."""
    try:
        return path.read_bytes().rstrip(b"\0").decode("utf-8", "replace").strip() or None
    except OSError:
        return None


def resolve_pin_factory(setting: str, model: str | None) -> str | None:
    """The driver name to use for ``setting`` on a board called ``model`` (None: gpiozero's
    default)."""
    if setting != "auto":
        if setting not in FACTORIES:
            raise ConfigError(f"cues.pin_factory: unknown driver {setting!r}")
        return setting
    if model and "raspberry pi" in model.lower():
        return "lgpio"
    return None


def make_pin_factory(name: str | None) -> Any:
    """An instance of the named gpiozero pin factory (None: let gpiozero choose)."""
    if name is None:
        return None
    module, cls_name, provider = FACTORIES[name]
    try:
        cls = getattr(importlib.import_module(module), cls_name)
        if name == "mock":
            from gpiozero.pins.mock import MockPWMPin

            return cls(pin_class=MockPWMPin)
        return cls()
    except Exception as exc:  # gpiozero raises ImportError, OSError, its own PinError kinds
        raise ConfigError(
            f"cannot load gpiozero pin driver {name!r} ({type(exc).__name__}: {exc}); "
            f"install it: {provider}"
        ) from None
