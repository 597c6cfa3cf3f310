"""The running collector: MQTT in, a writer thread that group-commits and acks, maintenance,
metrics and health. :class:`Collector` takes its store, clocks and settings from the caller."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from broker.collector.batch import BatchWriter, RateLimitedLog, Received
from broker.collector.metrics import Metrics
from broker.collector.mqtt import MqttIngest
from broker.collector.settings import CollectorSettings
from broker.dashboard.hub import TelemetryPublisher
from broker.storage.model import Message
from broker.storage.sql import SqlStore

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


class Collector:
    """One collector process: ``start()``, then ``stop()`` (or ``run(stop_event)``)."""

    def __init__(
        self,
        settings: CollectorSettings,
        store: SqlStore,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
        publisher: TelemetryPublisher | None = None,
        web: Any = None,
    ) -> None:
        """``publisher`` (the dashboard's hub) gets every message once its batch committed;
        ``web`` (an ASGI app, the dashboard) is served beside /metrics and /healthz."""
        self.settings = settings
        self.store = store
        self.wall = wall
        self.monotonic = monotonic
        self.metrics = metrics or Metrics()
        ing = settings.ingest
        self.queue: queue.Queue[Received] = queue.Queue(maxsize=ing.queue_max)
        self.writer = BatchWriter(
            store,
            self.metrics,
            wall=wall,
            monotonic=monotonic,
            max_bytes=ing.max_payload_bytes,
            reject_log=RateLimitedLog(ing.reject_log_interval_s, monotonic),
        )
        self.mqtt = MqttIngest(settings.mqtt, self.queue.put, wall, self._on_mqtt_state)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write_loop, name="collector-writer")
        self.last_commit: float | None = None
        self.writer_error: str | None = None
        self._next_maintenance = monotonic() + settings.maintenance.interval_s
        self._http: Any = None
        self.publisher = publisher
        self.web = web

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._refresh_device_gauges()
        self._thread.start()
        self.mqtt.start()
        addr = self.settings.http.address()
        if addr is not None:
            from broker.collector.http import HttpServer, make_app

            app = make_app(self.metrics.registry, self.health)
            if self.web is not None:
                app.mount("/", self.web)
            self._http = HttpServer(app, *addr)
            self._http.start()

    def stop(self) -> None:
        """Disconnect, let the writer commit and ack what it holds, stop HTTP."""
        self._stop.set()
        self._thread.join(timeout=60)
        self.mqtt.stop()
        if self._http is not None:
            self._http.stop()

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.wait(0.5):
                if not self._thread.is_alive():
                    raise RuntimeError(f"collector writer stopped: {self.writer_error}")
        finally:
            self.stop()

    # -- state ---------------------------------------------------------------------------------
    def _on_mqtt_state(self, up: bool) -> None:
        self.metrics.connected.set(1 if up else 0)

    def health(self) -> dict[str, Any]:
        alive = self._thread.is_alive()
        connected = self.mqtt.connected.is_set()
        age = None if self.last_commit is None else self.monotonic() - self.last_commit
        return {
            "ok": alive and connected and self.writer_error is None,
            "mqtt_connected": connected,
            "writer_alive": alive,
            "writer_error": self.writer_error,
            "queue_depth": self.queue.qsize(),
            "last_commit_age_s": age,
        }

    def _refresh_device_gauges(self) -> None:
        rows = self.store.registry()
        self.metrics.devices_known.set(len(rows))
        self.metrics.devices_online.set(sum(1 for r in rows if r.online))

    # -- the writer ------------------------------------------------------------------------------
    def _take_batch(self) -> list[Received]:
        try:
            first = self.queue.get(timeout=0.2)
        except queue.Empty:
            return []
        items = [first]
        ing = self.settings.ingest
        deadline = self.monotonic() + ing.linger_s
        while len(items) < ing.batch_max:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                left = deadline - self.monotonic()
                if left <= 0:
                    break
                try:
                    items.append(self.queue.get(timeout=left))
                except queue.Empty:
                    break
        return items

    def _write_loop(self) -> None:
        try:
            while True:
                items = self._take_batch()
                if not items:
                    if self._stop.is_set():
                        return
                    self._maybe_maintain()
                    continue
                self.metrics.queue_depth.set(self.queue.qsize())
                if not self._commit_with_retry(items):
                    return  # stopping with the batch uncommitted: the broker redelivers it
                self.mqtt.ack(items)
                self.last_commit = self.monotonic()
                if any(i.topic.endswith("/status") for i in items):
                    self._refresh_device_gauges()
                self._maybe_maintain()
        except BaseException as exc:  # a bug: make it visible in /healthz and the log
            self.writer_error = f"{type(exc).__name__}: {exc}"
            log.exception("collector writer failed")
            raise

    def _commit_with_retry(self, items: list[Received]) -> bool:
        backoff = self.settings.ingest.retry_backoff_s
        isolate = False
        while True:
            try:
                result = self.writer.process(items, isolate=isolate)
                self._publish(result.messages)
                if self.writer_error and self.writer_error.startswith("store:"):
                    self.writer_error = None
                return True
            except Exception as exc:
                self.metrics.store_errors.inc()
                self.writer_error = f"store: {exc}"
                log.warning("commit of %d messages failed (%s); retrying", len(items), exc)
                if not isolate:
                    isolate = True  # next try: one by one, to tell a bad row from a dead db
                    continue
                if self._stop.wait(backoff):
                    return False
                backoff = min(MAX_BACKOFF_S, backoff * 2)

    def _publish(self, messages: list[Message]) -> None:
        if self.publisher is None:
            return
        for m in messages:
            try:
                self.publisher.publish(m.kind, m.site, m.device, m.body)
            except Exception:  # the dashboard never stops ingest
                log.exception("publishing %s/%s to the dashboard failed", m.device, m.kind)

    def _maybe_maintain(self) -> None:
        now = self.monotonic()
        if now < self._next_maintenance:
            return
        self._next_maintenance = now + self.settings.maintenance.interval_s
        try:
            done = self.store.maintain(self.wall(), self.settings.maintenance.retention)
            log.info("maintenance: %s", done)
        except Exception as exc:
            log.warning("maintenance failed: %s", exc)
        self._refresh_device_gauges()
