"""The store-and-forward MQTT publisher of one device.

:meth:`Publisher.publish` (from the telemetry sink's worker thread, never the audio thread) gives
the message its ``seq``, wraps it in the envelope, checks it against its JSON Schema (with
``telemetry.check_payloads``) and stores it in the :class:`~edge.telemetry.outbox.Outbox` --
nothing is sent that was not stored first.

One supervised thread owns the MQTT connection (paho-mqtt 2.x, MQTT v5, QoS 1,
``clean_start=False`` with a session expiry, keepalive, TLS with a client certificate when
configured). It connects with a retained last will (``status`` offline/lost), publishes the
retained birth (``status`` online), subscribes to the unit's ``config`` and ``cmd`` topics, and
then drains the outbox oldest first, in order, with at most ``inflight`` unacknowledged messages;
a row is deleted only when its PUBACK arrives (:mod:`edge.telemetry.delivery`). When the
connection is lost, everything not yet acknowledged is sent again (in order) on the next
connection, which is attempted after a jittered exponential backoff measured on the injected
clock. A fresh paho client is made per connection, so the outbox is the only record of what is
pending.

``health`` is produced by the same thread every ``health_interval_s`` of the injected clock and
goes through the outbox like any other message. :meth:`Publisher.stop` drains (bounded), then
publishes a retained ``offline``/``shutdown`` status and disconnects cleanly (no last will).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from edge.protocols import Clock
from edge.telemetry.backoff import Backoff
from edge.telemetry.boot import next_boot
from edge.telemetry.control import BirthInfo, ControlHandler, ControlRouter
from edge.telemetry.delivery import Delivery, PublisherStats
from edge.telemetry.envelope import WallClock
from edge.telemetry.health import HealthReporter
from edge.telemetry.mqtt_client import Waker, connect, loop_once, make_client
from edge.telemetry.outbox import OUTBOX_FILE, Limits, Outbox
from edge.telemetry.settings import TelemetrySettings
from edge.telemetry.stream import Stream
from edge.telemetry.topics import DeviceTopics, parse_topic

log = logging.getLogger(__name__)

__all__ = ["Publisher", "PublisherStats"]


class Publisher:
    """See the module docstring. Build with :meth:`open` (boot counter + outbox)."""

    def __init__(
        self,
        settings: TelemetrySettings,
        topics: DeviceTopics,
        birth: BirthInfo,
        outbox: Outbox,
        boot: int,
        clock: Clock,
        wall: WallClock,
        health: HealthReporter | None = None,
        rng: random.Random | None = None,
        max_wait_s: float = 1.0,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.birth = birth
        self.outbox = outbox
        self.boot = boot
        self.clock = clock
        self.wall = wall
        self.health = health
        self.backoff = Backoff(
            settings.backoff_min_s, settings.backoff_max_s, settings.backoff_jitter, rng
        )
        self.stream = Stream(topics, boot, outbox, wall, settings.check_payloads)
        self.max_wait_s = max_wait_s
        """Longest the thread sleeps without a wake-up (keepalive housekeeping, clock checks)."""
        self.stats = PublisherStats()
        self.control = ControlRouter()
        self._waker = Waker()
        self._stop = threading.Event()
        self._stopping = threading.Event()
        self._state = threading.Condition()
        self.delivery = Delivery(
            outbox, self.stream, topics, settings.inflight, self.stats, self._notify
        )
        """What is in flight on the current connection (the network thread's)."""
        self._ready = False
        self._client: mqtt.Client | None = None
        self._next_attempt = clock.now()
        self._lost = False
        self._rebirth = False
        self._thread: threading.Thread | None = None
        self._observed = -float("inf")

    @classmethod
    def open(
        cls,
        settings: TelemetrySettings,
        birth: BirthInfo,
        clock: Clock,
        wall: WallClock,
        health: HealthReporter | None = None,
        hostname: str | None = None,
        **kwargs: Any,
    ) -> Publisher:
        """Open the outbox in ``settings.state_dir``, increment and persist the boot counter
        (fsynced, above any boot still in the outbox), and build the publisher (not started)."""
        topics = DeviceTopics(settings.site, settings.device_id(hostname))
        limits = Limits(
            settings.outbox_max_rows, settings.outbox_max_bytes, settings.outbox_max_age_s
        )
        state = Path(settings.state_dir)
        outbox = Outbox(state / OUTBOX_FILE, limits, on_stored=kwargs.pop("on_stored", None))
        boot = next_boot(state, floor=outbox.max_boot())
        log.info(
            "telemetry: %s as %s/%s, boot %d, %d message(s) waiting in the outbox",
            settings.broker,
            topics.site,
            topics.device,
            boot,
            outbox.depth,
        )
        return cls(settings, topics, birth, outbox, boot, clock, wall, health, **kwargs)

    # -- the stream (any thread) ---------------------------------------------------------------

    def publish(self, kind: str, body: dict[str, Any]) -> int | None:
        """Store one ``metrics``/``events``/``health`` message (see :class:`Stream`); returns
        its ``seq`` (None if invalid). Blocks only on the local disk (one SQLite commit)."""
        seq = self.stream.put(kind, body)
        self._poke()
        return seq

    @property
    def next_seq(self) -> int:
        return self.stream.next_seq

    def status_payload(self, state: str, reason: str) -> bytes:
        return self.stream.status(self.birth, state, reason)

    def update_birth(self, **changes: Any) -> None:
        """Change what ``status`` says (``config_version``, ``agent``, ``model``, ...; fields of
        :class:`BirthInfo`) and publish the new retained birth on the current connection (and
        every later one). Thread-safe; for the fleet code after applying a config."""
        self.birth = dataclasses.replace(self.birth, **changes)
        self._rebirth = True
        self._poke()

    def add_handler(self, kind: str, handler: ControlHandler) -> None:
        """Call ``handler(ControlMessage)`` for each ``config`` or ``cmd`` message (see
        :mod:`edge.telemetry.control`)."""
        self.control.add(kind, handler)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Publisher:
        self._thread = threading.Thread(target=self._supervise, name="mqtt-publisher", daemon=True)
        self._thread.start()
        return self

    @property
    def connected(self) -> bool:
        return self._ready

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait (bounded) until the broker accepted a connection."""
        with self._state:
            return self._state.wait_for(lambda: self._ready, timeout_s)

    def wait_drained(self, timeout_s: float) -> bool:
        """Wait (bounded) until the outbox is empty and nothing is in flight."""
        deadline = time.monotonic() + timeout_s
        with self._state:
            return self._state.wait_for(
                lambda: self.delivery.idle, max(0.0, deadline - time.monotonic())
            )

    def wait_observed(self, t: float, timeout_s: float) -> bool:
        """Wake the network thread and wait (bounded) until it finished a step that began at
        clock time ``t`` or later (tests advance a fake clock, then wait for it to act)."""
        self._poke()
        with self._state:
            return self._state.wait_for(lambda: self._observed >= t, timeout_s)

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Drain (at most ``drain_timeout_s``), publish the retained offline status, disconnect
        cleanly and close the outbox. What is not drained stays in the outbox for next time."""
        if self._thread is not None and self._thread.is_alive():
            self._stopping.set()
            self._poke()
            if self._ready:
                self.delivery.drained.wait(drain_timeout_s)
            self._stop.set()
            self._poke()
            self._thread.join(drain_timeout_s + 5.0)
            if self._thread.is_alive():
                log.warning("telemetry: publisher thread did not stop in time")
                return
        self.outbox.close()
        self._waker.close()

    def _poke(self) -> None:
        self._waker.poke()

    def _notify(self) -> None:
        with self._state:
            self._state.notify_all()

    def _timeout(self, now: float) -> float:
        """Until the next timed duty (reconnect attempt, health), at most ``max_wait_s``."""
        timeout = self.max_wait_s
        if self._client is None and self._next_attempt > now:
            timeout = min(timeout, self._next_attempt - now)
        if self.health is not None:
            timeout = min(timeout, self.health.next_due - now)
        return timeout

    # -- the network thread --------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.is_set():
            now = self.clock.now()
            try:
                self._step(now)
            except Exception:  # keep the publisher alive whatever happens
                log.exception("telemetry: publisher step failed; reconnecting")
                self._drop_connection()
                self._schedule_retry()
            with self._state:
                self._observed = now
                self._state.notify_all()
        self._shutdown()

    def _step(self, now: float) -> None:
        if self.health is not None and self.health.due(now):
            self.health.mark(now)
            self.outbox.trim_age(self.wall())
            self.publish("health", self.health.body(self.outbox.stats()))
        client = self._client
        if client is None:
            if now >= self._next_attempt and not self._stopping.is_set():
                self._connect()
            else:
                self._waker.wait(self._timeout(now))
            return
        rc = loop_once(client, self._waker, self._timeout(now))
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._lost:
            if not self._ready:
                self._failed()
            log.warning("telemetry: connection to %s lost (%s)", self.settings.broker, rc)
            self._drop_connection()
            self._schedule_retry()
            return
        if self._ready:
            if self._rebirth:
                self._rebirth = False
                self._publish_birth(client)
            if not self.delivery.drain(client):
                self._lost = True

    def _publish_birth(self, client: mqtt.Client) -> None:
        self.delivery.publish_status(client, self.status_payload("online", "birth"))

    def _connect(self) -> None:
        self.stats.connect_attempts += 1
        self._lost = False
        try:
            will = self.status_payload("offline", "lost")
            client = make_client(self.settings, self.topics.client_id, self.topics.status, will)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_publish = self._on_publish
            client.on_message = self._on_message
            connect(client, self.settings)
        except (OSError, ValueError) as exc:
            self._failed()
            if self.backoff.attempt % 10 == 0:
                log.warning("telemetry: cannot reach %s: %s", self.settings.broker, exc)
            self._schedule_retry()
            return
        self._client = client

    def _failed(self) -> None:
        with self._state:
            self.stats.connect_failures += 1
            self._state.notify_all()

    def wait_failures(self, n: int, timeout_s: float) -> bool:
        """Wait (bounded) until ``n`` connection attempts have failed."""
        with self._state:
            return self._state.wait_for(lambda: self.stats.connect_failures >= n, timeout_s)

    def _schedule_retry(self) -> None:
        delay = self.backoff.next_delay()
        self._next_attempt = self.clock.now() + delay
        log.debug("telemetry: next connection attempt in %.1f s", delay)

    def _drop_connection(self) -> None:
        client, self._client = self._client, None
        with self._state:
            was_ready, self._ready = self._ready, False
            self._state.notify_all()
        if was_ready:
            self.stats.disconnects += 1
        self.delivery.reset()
        if client is not None:
            try:
                sock = client.socket()
                if sock is not None:
                    sock.close()
            except OSError:
                pass

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if rc.is_failure:
            log.warning("telemetry: broker %s refused the connection: %s", self.settings.broker, rc)
            self._lost = True
            return
        self.stats.connects += 1
        self.backoff.reset()
        self.delivery.restart()
        client.subscribe([(self.topics.config, 1), (self.topics.cmd, 1)])
        self._rebirth = False
        self._publish_birth(client)
        log.info(
            "telemetry: connected to %s (session present: %s); %d message(s) to send",
            self.settings.broker,
            getattr(flags, "session_present", "?"),
            self.outbox.depth,
        )
        with self._state:
            self._ready = True
            self._state.notify_all()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if client is self._client:
            self._lost = True

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, rc: Any, props: Any
    ) -> None:
        self.delivery.acked(mid, rc)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            kind = parse_topic(msg.topic).kind
        except ValueError:
            return
        if msg.topic not in (self.topics.config, self.topics.cmd):
            return
        self.control.dispatch(kind, msg.topic, bytes(msg.payload), bool(msg.retain))

    def _shutdown(self) -> None:
        client = self._client
        if client is None or not self._ready:
            self._drop_connection()
            return
        try:
            mid = self.delivery.publish_status(client, self.status_payload("offline", "shutdown"))
            for _ in range(40):  # at most 2 s
                if not self.delivery.status_pending(mid) or self._lost:
                    break
                client.loop(timeout=0.05)
            client.disconnect()
            client.loop(timeout=0.05)
        except Exception as exc:
            log.warning("telemetry: clean disconnect failed: %s", exc)
        self._drop_connection()
