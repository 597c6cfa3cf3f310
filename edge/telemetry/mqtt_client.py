"""One paho-mqtt 2.x client per connection attempt: MQTT v5, credentials, TLS, last will.

A fresh client per connection keeps paho's own queue empty (the outbox is the only record of
what is pending); TLS files are read at every attempt, so a renewed certificate is picked up on
the next reconnect.
"""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.telemetry.settings import TelemetrySettings


def make_client(
    settings: TelemetrySettings, client_id: str, will_topic: str, will_payload: bytes
) -> mqtt.Client:
    """A configured, unconnected client with a retained QoS 1 last will."""
    s = settings
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(s.inflight + 4)
    client.max_queued_messages_set(0)
    if s.username:
        client.username_pw_set(s.username, s.read_password())
    if s.address.tls:
        client.tls_set(
            ca_certs=s.ca_file or None, certfile=s.cert_file or None, keyfile=s.key_file or None
        )
    client.will_set(will_topic, will_payload, qos=1, retain=True)
    return client


def connect(client: mqtt.Client, settings: TelemetrySettings) -> None:
    """Open the connection (TCP and TLS now; CONNACK arrives in ``client.loop``):
    ``clean_start=False`` with the session expiry, so the broker keeps the session."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = settings.session_expiry_s
    address = settings.address
    client.connect(
        address.host,
        address.port,
        keepalive=settings.keepalive_s,
        clean_start=False,
        properties=props,
    )
