"""Simulated devices: contract payloads (validated against the JSON Schemas) for dashboard tests
and bench/dashboard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from edge.telemetry.envelope import envelope
from edge.telemetry.schemas import validate


@dataclass
class SimDevice:
    """One desk's device: boot, seq and an optional call in progress."""

    site: str
    device: str
    agent: str | None = None
    boot: int = 1
    seq: int = 0
    call: str | None = None
    software: str = "poise 0.1.0"
    check: bool = True
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _make(self, kind: str, ts: float, body: dict[str, Any], seq: int | None = None) -> dict:
        if seq is None:
            seq, self.seq = self.seq, self.seq + 1
        p = envelope(kind, self.site, self.device, self.boot, seq, ts, body)
        if self.check:
            validate(kind, p)
        self.sent.append((kind, p))
        return p

    def status(self, ts: float, online: bool = True) -> dict[str, Any]:
        return self._make(
            "status",
            ts,
            {
                "state": "online" if online else "offline",
                "reason": "birth" if online else "lost",
                "software": self.software,
                "model": {"name": "prosody-v1", "sha256": "0" * 64},
                "config_version": 3,
                "policy_profile": "default",
                "detectors": ["pace", "stress", "overtalk"],
                "agent": self.agent,
            },
            seq=self.seq,
        )

    def start_call(self, ts: float) -> dict[str, Any]:
        self.call = uuid.uuid4().hex
        return self._event(ts, {"type": "call", "state": "start", "duration_s": None})

    def end_call(self, ts: float, duration_s: float) -> dict[str, Any]:
        p = self._event(ts, {"type": "call", "state": "end", "duration_s": duration_s})
        self.call = None
        return p

    def cue(self, ts: float, cue: str, on: bool = True) -> dict[str, Any]:
        return self._event(
            ts, {"type": "cue", "cue": cue, "state": "on" if on else "off", "reason": "test"}
        )

    def _event(self, ts: float, event: dict[str, Any]) -> dict[str, Any]:
        return self._make(
            "events", ts, {"call": self.call, "agent": self.agent, "t": 1.0, "event": event}
        )

    def metrics(
        self,
        ts: float,
        rate: float = 4.5,
        baseline: float = 4.5,
        arousal: float | None = 0.4,
        cues: dict[str, int] | None = None,
        pitch: float = 2.5,
    ) -> dict[str, Any]:
        side: dict[str, Any] = {
            "speech_s": 6.0,
            "syllables": 6.0 * rate,
            "speech_rate_sps": rate * 0.8,
            "articulation_rate_sps": rate,
            "f0_median_hz": 180.0,
            "pitch_sd_st": pitch,
            "level_median_db": -30.0,
        }
        if arousal is not None:
            side["arousal"] = arousal
        return self._make(
            "metrics",
            ts,
            {
                "call": self.call,
                "agent": self.agent,
                "t_start": 0.0,
                "t_end": 10.0,
                "duration_s": 10.0,
                "agent_side": side,
                "customer_side": None,
                "conversation": {
                    "agent_talk_s": 6.0,
                    "customer_talk_s": 3.0,
                    "overlap_s": 0.5,
                    "dead_air_s": 0.5,
                    "interruptions_by_agent": 1,
                    "interruptions_by_customer": 0,
                    "longest_monologue_s": 4.0,
                },
                "cues": cues or {},
                "baseline": {
                    "state": "following",
                    "speech_s": 600.0,
                    "articulation_rate_sps": baseline,
                    "pitch_spread_st": 2.0,
                },
            },
        )

    def health(
        self,
        ts: float,
        dropped: int = 0,
        temp: float | None = 52.0,
        depth: int = 0,
        overflows: int = 0,
    ) -> dict[str, Any]:
        return self._make(
            "health",
            ts,
            {
                "uptime_s": 100.0,
                "cpu_temp_c": temp,
                "load1": 0.3,
                "rss_bytes": 50_000_000,
                "audio": {"ok": True, "overflows": overflows, "reopens": 0},
                "outbox": {"depth": depth, "bytes": depth * 500, "dropped": dropped},
                "sinks": {},
            },
        )


def topic_of(payload: dict[str, Any]) -> str:
    """The contract topic a device publishes ``payload`` on."""
    from edge.telemetry.topics import DeviceTopics

    return DeviceTopics(payload["site"], payload["device"]).topic(payload["kind"])


class MqttDevices:
    """Publishes simulated devices' payloads to a real broker (QoS 1; status retained)."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        import paho.mqtt.client as mqtt

        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def send(self, kind: str, payload: dict[str, Any]) -> Any:
        from edge.telemetry.schemas import encode

        return self.client.publish(
            topic_of(payload), encode(payload), qos=1, retain=kind == "status"
        )

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
