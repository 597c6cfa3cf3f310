"""Birth/last-will bodies (``status``) and the handlers of what the device reads (``config``,
``cmd``).

Handler registration API (for the fleet code)::

    publisher.add_handler("cmd", on_cmd)        # on_cmd(msg: ControlMessage) -> None
    publisher.add_handler("config", on_config)

A ``cmd`` handler only ever sees payloads that decoded as JSON and passed
``schemas.validate("cmd", ...)`` (``msg.data`` is the decoded dict); anything else is logged,
counted in ``PublisherStats.control_invalid`` and dropped. A ``config`` handler gets the raw bytes
(``msg.data`` is None): the config is signed, and checking the signature is the handler's job.
Handlers run on the publisher's network thread: they must return quickly (hand long work to a
thread of their own) and their exceptions are logged and counted, never propagated.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.telemetry import schemas
from edge.telemetry.envelope import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    sha256: str


@dataclass(frozen=True)
class BirthInfo:
    """What ``status`` says about the unit (besides online/offline)."""

    software: str
    """Software version (``edge.__version__``)."""
    model: ModelInfo | None
    """The arousal model in use (None: running without one)."""
    config_version: int | None
    """Version of the central config in force (None: local settings only)."""
    policy_profile: str
    detectors: tuple[str, ...]
    """Detectors actually running."""
    agent: str | None = None

    def body(self, state: str, reason: str) -> dict[str, Any]:
        return {
            "state": state,
            "reason": reason,
            "software": self.software[:64],
            "model": (
                None
                if self.model is None
                else {"name": self.model.name[:128], "sha256": self.model.sha256}
            ),
            "config_version": self.config_version,
            "policy_profile": self.policy_profile,
            "detectors": list(dict.fromkeys(self.detectors)),
            "agent": self.agent,
        }


@dataclass(frozen=True)
class ControlMessage:
    """One message on the device's ``config`` or ``cmd`` topic."""

    kind: str
    topic: str
    payload: bytes
    retain: bool
    data: dict[str, Any] | None
    """The decoded, schema-checked command (``cmd``); None for ``config``."""


ControlHandler = Callable[[ControlMessage], None]

CONTROL_KINDS = ("config", "cmd")


class ControlRouter:
    """Keeps the handlers and dispatches decoded messages to them (thread-safe registration)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, list[ControlHandler]] = {k: [] for k in CONTROL_KINDS}
        self.received = 0
        self.invalid = 0
        self.errors = 0

    def add(self, kind: str, handler: ControlHandler) -> None:
        if kind not in CONTROL_KINDS:
            raise ValueError(f"handlers are for {', '.join(CONTROL_KINDS)}, not {kind!r}")
        with self._lock:
            self._handlers[kind].append(handler)

    def remove(self, kind: str, handler: ControlHandler) -> None:
        with self._lock:
            self._handlers[kind].remove(handler)

    def dispatch(self, kind: str, topic: str, payload: bytes, retain: bool) -> None:
        self.received += 1
        data: dict[str, Any] | None = None
        if kind == "cmd":
            try:
                if len(payload) > MAX_PAYLOAD_BYTES:
                    raise ValueError(f"{len(payload)} bytes")
                decoded = json.loads(payload)
                schemas.validate("cmd", decoded)
                data = decoded
            except (ValueError, UnicodeDecodeError) as exc:
                self.invalid += 1
                log.warning("ignoring an invalid cmd on %s: %s", topic, str(exc)[:200])
                return
        with self._lock:
            handlers = list(self._handlers.get(kind, ()))
        if not handlers:
            log.debug("no handler for %s message on %s", kind, topic)
        msg = ControlMessage(kind, topic, bytes(payload), retain, data)
        for h in handlers:
            try:
                h(msg)
            except Exception:
                self.errors += 1
                log.exception("%s handler %r failed", kind, h)
