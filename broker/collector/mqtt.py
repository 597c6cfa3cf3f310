"""The collector's MQTT side (paho-mqtt 2.x, MQTT v5): persistent session, manual acks.

Subscribes to the contract's shared subscription (``$share/<group>/poise/v1/+/+/+``) so that the
collectors of a group split the stream, and — because MQTT v5 never sends retained messages to
a shared subscription — also to ``poise/v1/+/+/status`` directly, which brings every retained
birth/last will (status is state: receiving it in several collectors is harmless). Status
copies that also match the shared filter are told apart by their subscription identifier and
only the in-order copy is used. Every QoS 1
message is handed to ``sink`` and acknowledged only when :meth:`MqttIngest.ack` is called for
it (after its batch committed), on the connection it arrived on.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from broker.collector.batch import Received
from broker.collector.settings import MqttSettings, endpoint
from edge.telemetry.topics import device_filter, shared_subscription

log = logging.getLogger(__name__)


SHARED_ID = 1
"""MQTT v5 subscription identifier of the shared subscription."""
STATUS_ID = 2
"""... and of the collector's own status subscription."""


def subscriptions(group: str, shared: bool = True) -> list[str]:
    """The filters a collector of ``group`` subscribes to (subscription ids 1 and 2)."""
    stream = shared_subscription(group) if shared else device_filter()
    return [stream, device_filter(kind="status")]


class MqttIngest:
    """One paho client feeding ``sink`` and sending PUBACKs on request."""

    def __init__(
        self,
        settings: MqttSettings,
        sink: Callable[[Received], None],
        wall: Callable[[], float],
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.wall = wall
        self.on_state = on_state
        self.generation = 0
        self.connected = threading.Event()
        self._lock = threading.Lock()
        ep = endpoint(settings.url)
        self.endpoint = ep
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        c.reconnect_delay_set(0.2, 5)  # type: ignore[arg-type]  # paho takes float seconds
        if ep.username:
            c.username_pw_set(ep.username, settings.password())
        if ep.tls:
            c.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None,
                certfile=str(settings.cert_file) if settings.cert_file else None,
                keyfile=str(settings.key_file) if settings.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        self.client.connect_async(
            self.endpoint.host,
            self.endpoint.port,
            keepalive=self.settings.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        with self._lock:
            self.generation += 1
        for ident, topic in enumerate(
            subscriptions(self.settings.group, self.settings.shared), start=1
        ):
            sp = Properties(PacketTypes.SUBSCRIBE)
            sp.SubscriptionIdentifier = ident
            client.subscribe(topic, options=SubscribeOptions(qos=1), properties=sp)
        log.info(
            "connected to %s:%d (session present: %s)",
            self.endpoint.host,
            self.endpoint.port,
            getattr(flags, "session_present", "?"),
        )
        self.connected.set()
        if self.on_state:
            self.on_state(True)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connected.clear()
        if self.on_state:
            self.on_state(False)
        log.warning("disconnected from the broker (%s); reconnecting", rc)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        ids = getattr(msg.properties, "SubscriptionIdentifier", None) or [SHARED_ID]
        self.sink(
            Received(
                topic=msg.topic,
                payload=bytes(msg.payload),
                mid=msg.mid,
                qos=msg.qos,
                received=self.wall(),
                generation=self.generation,
                via_shared=STATUS_ID not in ids,
            )
        )

    def ack(self, items: Sequence[Received]) -> int:
        """Send PUBACK for every QoS>0 item that arrived on the current connection; return how
        many (items of an older connection are redelivered by the broker and acked then)."""
        n = 0
        gen = self.generation
        for it in items:
            if it.qos > 0 and it.generation == gen:
                self.client.ack(it.mid, it.qos)
                n += 1
        return n
