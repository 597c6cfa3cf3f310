"""Building the telemetry sink for ``poise edge run`` from the device settings.

:func:`start_telemetry` returns ``None`` when no broker is configured (the device works alone);
otherwise it opens the outbox and the boot counter (in ``telemetry.state_dir``), starts the
publisher thread and returns the publisher with its sink, ready for the runner's sink list.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge import __version__
from edge.device.sinks import SupervisedSink
from edge.errors import ConfigError
from edge.protocols import Clock
from edge.telemetry.control import BirthInfo, ModelInfo
from edge.telemetry.envelope import WallClock
from edge.telemetry.health import AudioHealth, HealthProviders, HealthReporter, SinkCounters
from edge.telemetry.publisher import Publisher
from edge.telemetry.sink import telemetry_sink

log = logging.getLogger(__name__)


def model_info(path: Path | None) -> ModelInfo | None:
    """Name and sha256 of the model file in use (None without one)."""
    if path is None or not Path(path).is_file():
        return None
    from edge.model.card import sha256_file

    return ModelInfo(Path(path).stem, sha256_file(Path(path)))


def birth_info(
    settings: Any, detectors: tuple[str, ...], model_loaded: bool, config_version: int | None = None
) -> BirthInfo:
    """The ``status`` fields of this unit (``settings``: ``DeviceSettings``)."""
    return BirthInfo(
        software=__version__,
        model=model_info(settings.model.path) if model_loaded else None,
        config_version=config_version,
        policy_profile=settings.policy.profile,
        detectors=tuple(detectors),
    )


@dataclass
class Telemetry:
    """A started publisher and the sink to give the runner."""

    publisher: Publisher
    sink: SupervisedSink


def start_telemetry(
    settings: Any,
    birth: BirthInfo,
    clock: Clock,
    wall: WallClock,
    sinks: Callable[[], Mapping[str, SinkCounters]] | None = None,
    audio: Callable[[], AudioHealth] | None = None,
    before_start: Callable[[Publisher], None] | None = None,
) -> Telemetry | None:
    """Open the outbox, persist the new boot, start the publisher; None if telemetry is off.

    ``sinks``/``audio`` provide the counters ``health`` reports (the runner's sinks, the audio
    source); a failure to open the state directory is a :class:`ConfigError` (one line, exit 2).
    ``before_start`` gets the publisher before it connects (the fleet registers its ``config``
    and ``cmd`` handlers there, so the retained config is not missed).
    """
    t = settings.telemetry
    if not t.enabled:
        return None
    providers = HealthProviders()
    if sinks is not None:
        providers.sinks = sinks
    if audio is not None:
        providers.audio = audio
    health = HealthReporter(clock, t.health_interval_s, providers)
    try:
        t.read_password()
        publisher = Publisher.open(t, birth, clock, wall, health)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"telemetry state directory {t.state_dir}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if before_start is not None:
        before_start(publisher)
    publisher.start()
    sink = telemetry_sink(publisher, settings.policy, t.queue_size)
    return Telemetry(publisher, sink)
