"""A simple contract-following test device and publisher (NOT the device's real publisher).

:class:`DeviceSim` makes valid payloads of the telemetry contract (envelope from
:mod:`edge.telemetry.envelope`, topics from :mod:`edge.telemetry.topics`, checked by the
contract's own validator) with a per-boot seq and an injected wall clock. :class:`TestPublisher`
sends them with paho-mqtt 2.x at QoS 1 (birth retained, last will retained ``offline``) and keeps
every message until its PUBACK (paho re-sends them after a reconnect), which is all the collector
tests need from a device.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.telemetry.envelope import FIRST_SEQ, envelope
from edge.telemetry.schemas import encode, validate
from edge.telemetry.topics import DeviceTopics

SIDE = {
    "speech_s": 4.2,
    "syllables": 17.0,
    "speech_rate_sps": 3.9,
    "articulation_rate_sps": 4.4,
    "f0_median_hz": 181.5,
    "pitch_sd_st": 2.1,
    "level_median_db": -23.4,
}


def metrics_body(i: int) -> dict[str, Any]:
    return {
        "call": f"{i % 7:032x}",
        "agent": None,
        "t_start": 10.0 * i,
        "t_end": 10.0 * i + 10,
        "duration_s": 10.0,
        "agent_side": {**SIDE, "speech_s": float(i % 10)},
        "customer_side": dict(SIDE),
        "conversation": {
            "agent_talk_s": 4.5,
            "customer_talk_s": 3.0,
            "overlap_s": 0.4,
            "dead_air_s": 1.0,
            "interruptions_by_agent": 1,
            "interruptions_by_customer": 0,
            "longest_monologue_s": 4.0,
        },
        "cues": {"pace": i % 3},
        "baseline": {
            "state": "following",
            "speech_s": 300.0,
            "articulation_rate_sps": 4.1,
            "pitch_spread_st": 2.0,
        },
    }


def event_body(i: int) -> dict[str, Any]:
    return {
        "call": None,
        "agent": None,
        "t": float(i),
        "event": {"type": "cue", "cue": "pace", "state": "on" if i % 2 else "off", "reason": "x"},
    }


def health_body(i: int) -> dict[str, Any]:
    return {
        "uptime_s": 60.0 * i,
        "cpu_temp_c": 51.0,
        "load1": 0.4,
        "rss_bytes": 90_000_000,
        "audio": {"ok": True, "overflows": 0, "reopens": 0},
        "outbox": {"depth": 0, "bytes": 0, "dropped": 0},
        "sinks": {"publisher": {"errors": 0, "dropped": 0}},
    }


BODIES: dict[str, Callable[[int], dict[str, Any]]] = {
    "metrics": metrics_body,
    "events": event_body,
    "health": health_body,
}


@dataclass
class DeviceSim:
    """Payloads of one device boot; ``clock`` is its wall clock (epoch seconds)."""

    site: str
    device: str
    boot: int = 1
    clock: Callable[[], float] = time.time
    next_seq: int = FIRST_SEQ
    topics: DeviceTopics = field(init=False)

    def __post_init__(self) -> None:
        self.topics = DeviceTopics(self.site, self.device)

    def _make(self, kind: str, seq: int, body: dict[str, Any]) -> tuple[str, bytes]:
        payload = envelope(kind, self.site, self.device, self.boot, seq, self.clock(), body)
        validate(kind, payload)
        return self.topics.topic(kind), encode(payload)

    def stream(self, kind: str = "metrics") -> tuple[str, bytes]:
        """The next stream message (metrics, events or health)."""
        seq = self.next_seq
        self.next_seq += 1
        return self._make(kind, seq, BODIES[kind](seq))

    def status(self, state: str, reason: str) -> tuple[str, bytes]:
        body = {
            "state": state,
            "reason": reason,
            "software": "0.1.0",
            "model": {"name": "prosody-v1", "sha256": "0" * 64},
            "config_version": 3,
            "policy_profile": "default",
            "detectors": ["pace", "overtalk"],
        }
        return self._make("status", self.next_seq, body)

    def mixed(self, n: int) -> list[tuple[str, bytes]]:
        """n stream messages: mostly metrics, every 5th an event, every 20th health."""
        kinds = (
            "health" if i % 20 == 19 else "events" if i % 5 == 4 else "metrics" for i in range(n)
        )
        return [self.stream(k) for k in kinds]


class TestPublisher:
    """A paho MQTT v5 publisher for one DeviceSim: QoS 1, retained birth and last will."""

    __test__ = False
    _ids = itertools.count()

    def __init__(self, port: int, sim: DeviceSim, host: str = "127.0.0.1", inflight: int = 100):
        self.sim = sim
        self.acked = 0
        self.sent = 0
        self._cond = threading.Condition()
        cid = f"{sim.topics.client_id}:{next(self._ids)}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(inflight)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.05, 0.5)  # type: ignore[arg-type]  # floats work
        will_topic, will = sim.status("offline", "lost")
        self.client.will_set(will_topic, will, qos=1, retain=True)
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self._connected = threading.Event()
        self.client.connect_async(host, port, keepalive=5, clean_start=False, properties=props)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise TimeoutError("publisher did not connect")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not rc.is_failure:
            topic, birth = self.sim.status("online", "birth")
            with self._cond:
                self.sent += 1
            client.publish(topic, birth, qos=1, retain=True)
            self._connected.set()

    def _on_publish(self, client: Any, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        with self._cond:
            self.acked += 1
            self._cond.notify_all()

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos)
        with self._cond:
            self.sent += 1

    def publish_all(self, messages: list[tuple[str, bytes]], window: int | None = None) -> None:
        """Publish each message; with ``window``, never more than that many unacknowledged."""
        for topic, payload in messages:
            if window is not None:
                with self._cond:
                    self._cond.wait_for(lambda: self.sent - self.acked < window, timeout=30)
            self.publish(topic, payload)

    def wait_acked(self, timeout_s: float = 30.0) -> None:
        """Wait (bounded) until the broker acknowledged every message published (births too)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.acked >= self.sent, timeout=timeout_s):
                raise TimeoutError(f"{self.sent - self.acked} messages never acknowledged")

    def drop(self) -> None:
        """Vanish without DISCONNECT (the broker publishes the last will)."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
