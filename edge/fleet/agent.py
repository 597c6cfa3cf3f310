"""The device's fleet agent: routes its ``config`` and ``cmd`` messages to the components.

:class:`FleetAgent` is I/O-free apart from what it is given: a :class:`ConfigKeeper`, a
:class:`ModelUpdater` (optional), a :class:`CmdHandler` and a callback for settings that apply
live. The MQTT side (subscribing to the device's own two topics only) is
:func:`subscriptions` plus :meth:`FleetAgent.on_message`; the publisher's client calls these.
Model updates run off the MQTT thread (:class:`ModelWorker`), so a download never blocks
message handling; the latest manifest wins.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from edge.fleet.cmds import CmdHandler
from edge.fleet.config_keeper import ConfigKeeper, ConfigOutcome
from edge.fleet.model_update import ModelUpdater, UpdateOutcome
from edge.telemetry.topics import DeviceTopics

log = logging.getLogger(__name__)

ApplyLive = Callable[[dict[str, Any], tuple[str, ...]], None]
"""(the fleet's settings now in force, changed paths that apply live) -> None."""


def subscriptions(topics: DeviceTopics) -> list[tuple[str, int]]:
    """What the device subscribes to: its own config and cmd topics, QoS 1. Nothing else."""
    return [(topics.config, 1), (topics.cmd, 1)]


class ModelWorker:
    """Runs :meth:`ModelUpdater.offer` on one background thread, latest manifest first."""

    def __init__(self, updater: ModelUpdater, done: Callable[[UpdateOutcome], None]) -> None:
        self.updater = updater
        self.done = done
        self._pending: Any = None
        self._cv = threading.Condition()
        self._stop = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="poise-model-update", daemon=True)
        self._thread.start()

    def submit(self, manifest: Any) -> None:
        with self._cv:
            self._pending = manifest
            self._cv.notify()

    def idle(self, timeout_s: float) -> bool:
        """Wait until nothing is pending or running (tests and shutdown)."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending is None and not self._busy, timeout_s)

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._pending is not None or self._stop)
                if self._stop:
                    return
                manifest, self._pending, self._busy = self._pending, None, True
            try:
                self.done(self.updater.offer(manifest))
            except Exception:  # a bug here must not kill the worker
                log.exception("model update failed")
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()


class FleetAgent:
    """Handles one device's control messages."""

    def __init__(
        self,
        topics: DeviceTopics,
        config: ConfigKeeper,
        cmds: CmdHandler,
        models: ModelUpdater | None = None,
        apply_live: ApplyLive | None = None,
        changed: Callable[[], None] | None = None,
        background_models: bool = True,
    ) -> None:
        self.topics = topics
        self.config = config
        self.cmds = cmds
        self.models = models
        self.apply_live = apply_live
        self.changed = changed
        self.last_config: ConfigOutcome | None = None
        self.pending_restart: set[str] = set()
        self._worker = (
            ModelWorker(models, self._model_done)
            if models is not None and background_models
            else None
        )

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def wait_models(self, timeout_s: float) -> bool:
        return self._worker.idle(timeout_s) if self._worker is not None else True

    def start(self) -> None:
        """After a (re)start: continue with the model the stored config names."""
        if self.config.current is not None and self.config.current.model is not None:
            self._offer_model(self.config.current.model)

    def on_message(self, topic: str, payload: bytes) -> None:
        if topic == self.topics.config:
            self._on_config(payload)
        elif topic == self.topics.cmd:
            self.cmds.handle(payload)
        else:  # the broker's ACL already prevents this; never act on another device's topic
            log.warning("message on unexpected topic ignored")

    def _on_config(self, payload: bytes) -> None:
        if not payload:  # retained message cleared
            return
        out = self.config.offer(payload)
        self.last_config = out
        if out.status == "applied":
            self.pending_restart.update(out.restart)
            if self.apply_live is not None and out.live:
                self.apply_live(self.config.settings, out.live)
            if self.config.current is not None and self.config.current.model is not None:
                self._offer_model(self.config.current.model)
        if self.changed is not None:
            self.changed()

    def _offer_model(self, manifest: Any) -> None:
        if self.models is None:
            return
        if self._worker is not None:
            self._worker.submit(manifest)
        else:
            self._model_done(self.models.offer(manifest))

    def _model_done(self, out: UpdateOutcome) -> None:
        log.info("model update: %s (version %d, running %d)", out.status, out.version, out.running)
        if self.changed is not None:
            self.changed()

    def report(self) -> dict[str, Any]:
        """Fleet state for ``status``/logs: config version, pending restart, model outcome."""
        out: dict[str, Any] = {
            "config_version": self.config.version,
            "config": None
            if self.last_config is None
            else {
                "status": self.last_config.status,
                "reason": self.last_config.reason,
                "live": list(self.last_config.live),
            },
            "pending_restart": sorted(self.pending_restart),
        }
        if self.models is not None:
            out.update(self.models.report())
        return out

    def report_json(self) -> str:
        return json.dumps(self.report(), sort_keys=True)
