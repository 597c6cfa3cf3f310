"""A plain MQTT v5 subscriber (paho-mqtt 2.x) that records what it receives, for tests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """Connects, subscribes to ``topics`` at QoS 1 (persistent session when ``client_id`` is
    given), and keeps every message in :attr:`messages`."""

    def __init__(
        self, port: int, topics: list[str], client_id: str = "", host: str = "127.0.0.1"
    ) -> None:
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self.topics = topics
        self._subscribed = threading.Event()
        self.connects = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.subacks = 0
        props = None
        if client_id:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
        self.client.connect(host, port, keepalive=10, clean_start=not client_id, properties=props)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("subscriber did not get SUBACK")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any):
        client.subscribe([(t, 1) for t in self.topics])
        with self._cond:
            self.connects += 1
            self._cond.notify_all()

    def _on_subscribe(self, *args: Any) -> None:
        with self._cond:
            self.subacks += 1
            self._cond.notify_all()
        self._subscribed.set()

    def wait_subscribed(self, n: int, timeout_s: float = 10.0) -> None:
        """Wait (bounded) until ``n`` SUBACKs arrived (one per connection: resubscribed)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.subacks >= n, timeout_s):
                raise TimeoutError(f"subscriber got {self.subacks} SUBACKs, not {n}")

    def wait_connects(self, n: int, timeout_s: float = 10.0) -> None:
        """Wait (bounded) until the subscriber has connected ``n`` times (reconnects count)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.connects >= n, timeout_s):
                raise TimeoutError(f"subscriber connected {self.connects} times, not {n}")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout_s: float = 10.0) -> list[Received]:
        """Wait (bounded) until ``predicate(messages)`` is true; return a copy of them."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met; got {len(self.messages)} messages")
                self._cond.wait(left)
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
