"""The telemetry contract: topics, ids, envelope, schemas (and their docs copies)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.settings import DETECTOR_NAMES
from edge.telemetry import schemas
from edge.telemetry.envelope import envelope, format_ts, parse_ts
from edge.telemetry.topics import (
    DETECTOR_KINDS_FOR_SCHEMA,
    DeviceTopics,
    TopicError,
    default_device_id,
    device_filter,
    parse_topic,
    shared_subscription,
    validate_id,
)
from tests.support.mosquitto import Broker
from tests.support.mqtt_sub import Subscriber

REPO = Path(__file__).resolve().parents[2]


def test_topics_of_a_device() -> None:
    t = DeviceTopics("site-1", "desk-07")
    assert t.status == "poise/v1/site-1/desk-07/status"
    assert t.metrics.endswith("/metrics") and t.cmd.endswith("/cmd")
    assert parse_topic(t.events).device == "desk-07"
    assert t.client_id == "poise:site-1:desk-07"


@pytest.mark.parametrize(
    "bad", ["", "a/b", "+", "#", "desk#1", "Desk", "x" * 65, "dé", "a b", "$sys", "a\x00"]
)
def test_bad_ids_are_refused(bad: str) -> None:
    with pytest.raises(TopicError):
        validate_id(bad)
    with pytest.raises(TopicError):
        DeviceTopics("site", bad)


@pytest.mark.parametrize(
    "topic",
    [
        "poise/v1/a/b",
        "poise/v1/a/b/metrics/x",
        "poise/v2/a/b/metrics",
        "other/v1/a/b/metrics",
        "poise/v1/a/+/metrics",
        "poise/v1/a/b/audio",
        "poise/v1/A/b/metrics",
    ],
)
def test_parse_topic_refuses_everything_else(topic: str) -> None:
    with pytest.raises(TopicError):
        parse_topic(topic)


def test_filters_are_for_subscribing() -> None:
    assert shared_subscription("collectors") == "$share/collectors/poise/v1/+/+/+"
    assert device_filter(site="s1", kind="status") == "poise/v1/s1/+/status"
    with pytest.raises(TopicError):
        device_filter(site="s/1")


def test_default_device_id_is_always_valid() -> None:
    for host in ["Pi-Desk_07.local", "", "....", "ÄÖÜ", "x" * 200]:
        validate_id(default_device_id(host))
    assert default_device_id("Pi-Desk_07.local") == "pi-desk-07-local"


def test_detector_names_match_the_device() -> None:
    assert tuple(DETECTOR_KINDS_FOR_SCHEMA) == tuple(DETECTOR_NAMES)


def test_timestamps_round_trip() -> None:
    assert format_ts(0) == "1970-01-01T00:00:00.000Z"
    ts = format_ts(1_764_622_241.1234)
    assert ts == "2025-12-01T20:50:41.123Z"
    assert math.isclose(parse_ts(ts), 1_764_622_241.123, abs_tol=1e-6)
    with pytest.raises(ValueError):
        format_ts(float("nan"))


def test_envelope_refuses_overriding_its_fields() -> None:
    with pytest.raises(ValueError):
        envelope("health", "s", "d", 1, 0, 0.0, {"seq": 3})


def test_docs_schemas_match_the_code() -> None:
    for kind in schemas.SCHEMAS:
        path = REPO / "docs" / "schemas" / f"{kind}.schema.json"
        assert path.read_text(encoding="utf-8") == schemas.render(kind), (
            f"{path} is stale: run python -m edge.telemetry.schemas docs/schemas"
        )


def test_schemas_are_valid_draft7() -> None:
    import jsonschema

    for schema in schemas.SCHEMAS.values():
        jsonschema.Draft7Validator.check_schema(schema)


def _status(**over: object) -> dict:
    body: dict[str, object] = {
        "state": "online",
        "reason": "birth",
        "software": "0.1.0",
        "model": {"name": "prosody-v1", "sha256": "0" * 64},
        "config_version": None,
        "policy_profile": "default",
        "detectors": ["pace", "overtalk"],
        "agent": None,
    }
    body.update(over)
    return envelope("status", "s", "d", 1, 0, 0.0, body)


def test_validator_accepts_and_refuses() -> None:
    schemas.validate("status", _status())
    for bad in [
        _status(state="maybe"),
        _status(extra=1),
        _status(detectors=["pace", "pace"]),
        {**_status(), "boot": 0},
        {**_status(), "v": 2},
        {**_status(), "device": "a/b"},
    ]:
        with pytest.raises(ValueError):
            schemas.validate("status", bad)


def test_encode_is_strict() -> None:
    with pytest.raises(ValueError):
        schemas.encode({"x": float("nan")})
    with pytest.raises(ValueError):
        schemas.encode({"x": "y" * 70_000})
    assert json.loads(schemas.encode(_status()))["kind"] == "status"


def test_real_broker_delivers_a_retained_status(mosquitto: Broker) -> None:
    """The fixture's broker is real: a retained status reaches a subscriber that comes later."""
    topics = DeviceTopics("s", "d")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    pub.publish(topics.status, schemas.encode(_status()), qos=1, retain=True).wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()
    sub = Subscriber(mosquitto.port, [device_filter(kind="status")])
    try:
        got = sub.wait_for(lambda m: len(m) >= 1)
        assert got[0].retain and got[0].json()["state"] == "online"
        schemas.validate("status", got[0].json())
    finally:
        sub.close()
