"""What is in flight on the publisher's current MQTT connection (the network thread's only).

:class:`Delivery` drains the outbox oldest first, in order, with at most ``inflight``
unacknowledged messages; each PUBACK deletes its row (one the broker refused is counted, logged
and deleted too). Retained ``status`` messages (birth, clean shutdown) are tracked to their
PUBACK apart from the stream. After a reconnect everything not yet acknowledged is sent again
from the oldest row (:meth:`Delivery.restart`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from edge.telemetry.outbox import Outbox
from edge.telemetry.stream import Stream
from edge.telemetry.topics import DeviceTopics

log = logging.getLogger(__name__)


@dataclass
class PublisherStats:
    """Counters of the publisher (the outbox keeps its own)."""

    sent: int = 0
    acked: int = 0
    rejected: int = 0
    """Messages the broker refused in its PUBACK (deleted, logged)."""
    connect_attempts: int = 0
    connect_failures: int = 0
    """Attempts that did not end in an accepted connection (unreachable, TLS or CONNACK
    refused, lost before CONNACK)."""
    connects: int = 0
    """Successful connections (CONNACK success)."""
    disconnects: int = 0


class Delivery:
    """The outbox's rows and status messages on their way to the broker (see the module
    docstring). ``notify`` is called whenever the outbox drained or a row was acknowledged."""

    def __init__(
        self,
        outbox: Outbox,
        stream: Stream,
        topics: DeviceTopics,
        inflight: int,
        stats: PublisherStats,
        notify: Callable[[], None],
    ) -> None:
        self.outbox = outbox
        self.stream = stream
        self.topics = topics
        self.max_inflight = inflight
        self.stats = stats
        self.notify = notify
        self.inflight: dict[int, tuple[int, int]] = {}
        """Message id -> outbox key of what was sent and not yet acknowledged."""
        self.drained = threading.Event()
        """Set while the outbox is empty and nothing is in flight (as the last drain saw it)."""
        self._status_mids: set[int] = set()
        self._cursor: tuple[int, int] | None = None
        self._caught_up = -1
        """``stream.version`` at which the drain last found nothing more after its cursor."""

    @property
    def idle(self) -> bool:
        """The outbox is empty and nothing is in flight."""
        return self.outbox.depth == 0 and not self.inflight

    def restart(self) -> None:
        """A new connection: send everything not acknowledged again, from the oldest row."""
        self.inflight.clear()
        self._cursor = None
        self._caught_up = -1

    def reset(self) -> None:
        """The connection is gone: forget its in-flight messages, status ones too."""
        self.restart()
        self._status_mids.clear()

    def publish_status(self, client: mqtt.Client, payload: bytes) -> int:
        """Publish a retained ``status`` (QoS 1); return its message id."""
        info = client.publish(self.topics.status, payload, qos=1, retain=True)
        self._status_mids.add(info.mid)
        return info.mid

    def status_pending(self, mid: int) -> bool:
        """The status message ``mid`` is not acknowledged yet."""
        return mid in self._status_mids

    def drain(self, client: mqtt.Client) -> bool:
        """Send the next rows after the cursor, up to the in-flight window; False when paho
        refused one (the connection is lost)."""
        free = self.max_inflight - len(self.inflight)
        version = self.stream.version
        if free > 0 and self._caught_up != version:
            rows = self.outbox.after(self._cursor, free)
            if len(rows) < free:
                self._caught_up = version  # nothing more to read until the next publish()
            for row in rows:
                info = client.publish(self.topics.topic(row.kind), row.payload, qos=1)
                if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return False
                self.inflight[info.mid] = row.key
                self._cursor = row.key
                self.stats.sent += 1
        if not self.inflight and self.outbox.depth == 0:
            self.drained.set()
            self.notify()
        else:
            self.drained.clear()
        return True

    def acked(self, mid: int, rc: Any) -> None:
        """The PUBACK of ``mid`` (reason code ``rc``): delete its row (refused ones too)."""
        if mid in self._status_mids:
            self._status_mids.discard(mid)
            return
        key = self.inflight.pop(mid, None)
        if key is None:
            return
        if rc.is_failure:
            self.stats.rejected += 1
            log.warning("telemetry: broker refused message %s: %s (dropped)", key, rc)
        else:
            self.stats.acked += 1
        self.outbox.ack(*key)
        self.notify()
