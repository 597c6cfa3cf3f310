"""Verify and apply the signed config the fleet publishes (retained) on the device's config topic.

:class:`ConfigKeeper` holds the last good config on disk (written atomically, directory fsynced)
and offers each incoming payload to :func:`edge.fleet.documents.check_config`. A payload is
refused — and the previous config kept — when it is unsigned, tampered with, addressed to
another device, expired, not newer than the current version, or when its settings would not
load (unknown key, bad value) or touch a key the fleet may not change remotely (where the device
connects, its credentials, its state files). The broker re-delivers the retained config on every
reconnect: the same document again is ``unchanged``, not an error. Each outcome says which
changed keys apply live and which wait for a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.errors import PoiseError
from edge.fileio import write_bytes_atomic
from edge.fleet.documents import ConfigDoc, Refused, check_config
from edge.fleet.signing import canonical_json, verify
from edge.telemetry.envelope import WallClock

log = logging.getLogger(__name__)

REMOTE_DENIED = ("fleet", "telemetry", "model.path", "baseline.state_file", "audio.source")
"""Setting paths (and everything under them) a remote config may never change."""
LIVE_PREFIXES = ("budget", "cues.styles")
"""Setting paths the running loop applies without a restart (plus :data:`LIVE_DETECTOR_FIELDS`
of each detector); anything else waits for the next start."""
LIVE_DETECTOR_FIELDS = (
    "enter",
    "exit",
    "min_duration_s",
    "enter_share",
    "strong_min_share",
    "scored_share",
    "exit_hold_s",
    "refractory_s",
    "priority",
    "max_on_s",
)
"""Hysteresis and arbitration fields of ``detectors.<name>`` (read by the drift and the arbiter,
which the loop updates in place)."""


def is_live(key: str) -> bool:
    """Whether a changed setting path applies to the running loop."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "detectors" and parts[2] in LIVE_DETECTOR_FIELDS:
        return True
    return _under(key, LIVE_PREFIXES)


Validate = Callable[[dict[str, Any]], object]
"""Builds the device settings from a merged mapping, raising on anything invalid."""


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid onto a copy of ``base``, table by table."""
    out: dict[str, Any] = {
        k: deep_merge(v, {}) if isinstance(v, Mapping) else v for k, v in base.items()
    }
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = deep_merge(v, {}) if isinstance(v, Mapping) else v
    return out


def _under(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class ConfigOutcome:
    """What became of one offered config."""

    status: Literal["applied", "unchanged", "refused"]
    """``applied``: new current config; ``unchanged``: the current one again; ``refused``."""
    version: int
    """The config version the device runs after this (0 = none from the fleet yet)."""
    reason: str = ""
    """Why it was refused (``unsigned``, ``signature``, ``rollback``, ``expired``, ...)."""
    live: tuple[str, ...] = ()
    """Changed setting paths applied live."""
    restart: tuple[str, ...] = ()
    """Changed setting paths that take effect at the next start."""


class ConfigKeeper:
    """The device's current fleet config and its on-disk copy."""

    def __init__(
        self,
        path: Path,
        trusted: list[Ed25519PublicKey],
        site: str,
        device: str,
        wall_clock: WallClock,
        validate: Validate | None = None,
    ) -> None:
        self.path = Path(path)
        self.trusted = trusted
        self.site = site
        self.device = device
        self.wall_clock = wall_clock
        self.validate = validate
        self.current: ConfigDoc | None = None
        self._load()

    @property
    def version(self) -> int:
        return self.current.version if self.current is not None else 0

    @property
    def settings(self) -> dict[str, Any]:
        """The fleet's overrides now in force (empty before the first config)."""
        return self.current.settings if self.current is not None else {}

    def _load(self) -> None:
        """The last good config from disk, signature re-checked (it may have expired since:
        the device keeps running it rather than fall back to nothing)."""
        try:
            doc = json.loads(self.path.read_bytes())
            verify(doc, self.trusted)
            self.current = check_config(doc, self.trusted, self.site, self.device, 0.0, 0)
        except FileNotFoundError:
            return
        except (OSError, ValueError, PoiseError) as exc:
            log.warning("ignoring stored config %s: %s", self.path, exc)
            return
        log.info("fleet config version %d loaded from %s", self.current.version, self.path)

    def offer(self, payload: bytes) -> ConfigOutcome:
        """Verify ``payload``; apply and persist it, or refuse it and keep the current one."""
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return self._refuse("malformed", "config payload is not JSON")
        if self.current is not None and isinstance(doc, dict):
            try:
                if canonical_json(doc) == canonical_json(self.current.raw):
                    return ConfigOutcome("unchanged", self.version)
            except (TypeError, ValueError):
                return self._refuse("malformed", "config payload is not canonical JSON")
        try:
            new = check_config(
                doc, self.trusted, self.site, self.device, self.wall_clock(), self.version
            )
            self._check_settings(new.settings)
        except Refused as exc:
            return self._refuse(exc.reason, str(exc))
        old = flatten(self.settings)
        changed = sorted(
            k
            for k in set(old) | set(flatten(new.settings))
            if old.get(k) != flatten(new.settings).get(k)
        )
        write_bytes_atomic(self.path, canonical_json(doc), sync_dir=True)
        self.current = new
        live = tuple(k for k in changed if is_live(k))
        restart = tuple(k for k in changed if not is_live(k))
        log.info(
            "fleet config version %d applied (%d live, %d at restart)",
            new.version,
            len(live),
            len(restart),
        )
        return ConfigOutcome("applied", new.version, live=live, restart=restart)

    def _check_settings(self, settings: dict[str, Any]) -> None:
        for key in flatten(settings):
            if _under(key, REMOTE_DENIED):
                raise Refused("forbidden", f"setting {key} cannot be changed remotely")
        if self.validate is not None:
            try:
                self.validate(settings)
            except PoiseError as exc:
                raise Refused("invalid", f"settings do not load: {exc}") from None

    def _refuse(self, reason: str, message: str) -> ConfigOutcome:
        log.warning(
            "fleet config refused (%s): %s; keeping version %d", reason, message, self.version
        )
        return ConfigOutcome("refused", self.version, reason=reason)
