"""JSON Schemas (draft-07) of every payload in the contract, and a fast validator.

The schemas are built here in Python and written to ``docs/schemas/<kind>.schema.json`` by
``python -m edge.telemetry.schemas docs/schemas`` (a test checks the files match). Numbers that
can be undefined (no speech in a window, no pitch) are ``null``, never NaN. Every object is
closed (``additionalProperties: false``) so a reader knows every field it may see; a new field is
a new schema version.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from edge.telemetry.envelope import MAX_PAYLOAD_BYTES, SCHEMA_VERSION
from edge.telemetry.topics import DETECTOR_KINDS_FOR_SCHEMA, KINDS

ID = {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"}
OPT_ID = {"anyOf": [ID, {"type": "null"}]}
CALL_ID = {"anyOf": [{"type": "string", "pattern": "^[0-9a-f]{32}$"}, {"type": "null"}]}
AGENT_ID = {"anyOf": [{"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}, {"type": "null"}]}
COUNT = {"type": "integer", "minimum": 0}
NUM = {"type": "number"}
OPT_NUM = {"type": ["number", "null"]}
SECONDS = {"type": "number", "minimum": 0}
CUE = {"type": "string", "enum": list(DETECTOR_KINDS_FOR_SCHEMA)}
TS = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": False,
    }


def _device_payload(kind: str, title: str, body: dict[str, Any], required: list[str]) -> dict:
    props = {
        "v": {"const": SCHEMA_VERSION},
        "kind": {"const": kind},
        "site": ID,
        "device": ID,
        "boot": {"type": "integer", "minimum": 1},
        "seq": COUNT,
        "ts": TS,
        **body,
    }
    schema = _obj(props, ["v", "kind", "site", "device", "boot", "seq", "ts", *required])
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"https://poise.invalid/schemas/v{SCHEMA_VERSION}/{kind}.schema.json",
        "title": title,
        **schema,
    }


SIDE = _obj(
    {
        "speech_s": SECONDS,
        "syllables": {"type": "number", "minimum": 0},
        "speech_rate_sps": OPT_NUM,
        "articulation_rate_sps": OPT_NUM,
        "f0_median_hz": OPT_NUM,
        "pitch_sd_st": OPT_NUM,
        "level_median_db": OPT_NUM,
        "arousal": OPT_NUM,
    },
    [
        "speech_s",
        "syllables",
        "speech_rate_sps",
        "articulation_rate_sps",
        "f0_median_hz",
        "pitch_sd_st",
        "level_median_db",
    ],
)
"""Per side of a window; ``arousal`` is present only where policy allows publishing it."""

CONVERSATION = _obj(
    {
        "agent_talk_s": SECONDS,
        "customer_talk_s": SECONDS,
        "overlap_s": SECONDS,
        "dead_air_s": SECONDS,
        "interruptions_by_agent": COUNT,
        "interruptions_by_customer": COUNT,
        "longest_monologue_s": SECONDS,
    }
)

BASELINE = _obj(
    {
        "state": {"enum": ["calibrating", "following", "frozen"]},
        "speech_s": SECONDS,
        "articulation_rate_sps": OPT_NUM,
        "pitch_spread_st": OPT_NUM,
    }
)

METRICS = _device_payload(
    "metrics",
    "One aggregate over a window of the device loop (never audio, never text)",
    {
        "call": CALL_ID,
        "agent": AGENT_ID,
        "t_start": SECONDS,
        "t_end": SECONDS,
        "duration_s": SECONDS,
        "agent_side": SIDE,
        "customer_side": {"anyOf": [SIDE, {"type": "null"}]},
        "conversation": CONVERSATION,
        "cues": {"type": "object", "propertyNames": CUE, "additionalProperties": COUNT},
        "baseline": BASELINE,
    },
    [
        "call",
        "agent",
        "t_start",
        "t_end",
        "duration_s",
        "agent_side",
        "customer_side",
        "conversation",
        "cues",
        "baseline",
    ],
)

EVENT = {
    "oneOf": [
        _obj(
            {
                "type": {"const": "cue"},
                "cue": CUE,
                "state": {"enum": ["on", "off"]},
                "reason": {"type": "string", "maxLength": 32},
            }
        ),
        _obj(
            {
                "type": {"const": "drift"},
                "cue": CUE,
                "state": {"enum": ["on", "off"]},
                "value": OPT_NUM,
            }
        ),
        _obj(
            {
                "type": {"const": "baseline"},
                "state": {"enum": ["calibrated", "frozen", "following", "reset", "agent"]},
            }
        ),
        _obj(
            {
                "type": {"const": "call"},
                "state": {"enum": ["start", "end"]},
                "duration_s": OPT_NUM,
            }
        ),
    ]
}

EVENTS = _device_payload(
    "events",
    "One thing that happened on the device loop (cue, drift, baseline, call start/end)",
    {"call": CALL_ID, "agent": AGENT_ID, "t": SECONDS, "event": EVENT},
    ["call", "agent", "t", "event"],
)

HEALTH = _device_payload(
    "health",
    "How the unit is doing (every 60 s)",
    {
        "uptime_s": SECONDS,
        "cpu_temp_c": OPT_NUM,
        "load1": OPT_NUM,
        "rss_bytes": COUNT,
        "audio": _obj({"ok": {"type": "boolean"}, "overflows": COUNT, "reopens": COUNT}),
        "outbox": _obj({"depth": COUNT, "bytes": COUNT, "dropped": COUNT}),
        "sinks": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9_-]{1,32}$"},
            "additionalProperties": _obj({"errors": COUNT, "dropped": COUNT}),
        },
    },
    ["uptime_s", "cpu_temp_c", "load1", "rss_bytes", "audio", "outbox", "sinks"],
)

STATUS = _device_payload(
    "status",
    "Retained birth (online) and last will (offline) of a device",
    {
        "state": {"enum": ["online", "offline"]},
        "reason": {"enum": ["birth", "shutdown", "lost"]},
        "software": {"type": "string", "maxLength": 64},
        "model": {
            "anyOf": [
                _obj({"name": {"type": "string", "maxLength": 128}, "sha256": SHA256}),
                {"type": "null"},
            ]
        },
        "config_version": {"type": ["integer", "null"], "minimum": 0},
        "policy_profile": {"type": "string", "maxLength": 32},
        "detectors": {"type": "array", "items": CUE, "uniqueItems": True},
        "agent": AGENT_ID,
    },
    ["state", "reason", "software", "model", "config_version", "policy_profile", "detectors"],
)

CMD = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": f"https://poise.invalid/schemas/v{SCHEMA_VERSION}/cmd.schema.json",
    "title": "A command to one device (from the collector, dashboard or fleet tools)",
    **_obj(
        {
            "v": {"const": SCHEMA_VERSION},
            "kind": {"const": "cmd"},
            "id": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"},
            "ts": TS,
            "cmd": {"enum": ["identify", "recalibrate", "sign_in", "sign_out"]},
            "args": {"type": "object"},
        },
        ["v", "kind", "id", "ts", "cmd", "args"],
    ),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "status": STATUS,
    "metrics": METRICS,
    "events": EVENTS,
    "health": HEALTH,
    "cmd": CMD,
}
"""Schema by topic kind (``config`` is signed and has its own module in the fleet code)."""

assert set(SCHEMAS) <= set(KINDS)


@cache
def validator(kind: str) -> Callable[[Any], Any]:
    """A compiled validator for payloads of ``kind``; raises ``fastjsonschema.JsonSchemaException``
    (a ``ValueError``) naming the failing path."""
    import fastjsonschema

    fn: Callable[[Any], Any] = fastjsonschema.compile(SCHEMAS[kind])
    return fn


def validate(kind: str, payload: Any) -> None:
    """Raise ``ValueError`` unless ``payload`` (decoded JSON) is a valid ``kind`` payload."""
    validator(kind)(payload)


def encode(payload: dict[str, Any]) -> bytes:
    """Compact strict JSON (no NaN) as UTF-8, refused when over :data:`MAX_PAYLOAD_BYTES`."""
    data = json.dumps(payload, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    raw = data.encode("utf-8")
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return raw


def render(kind: str) -> str:
    return json.dumps(SCHEMAS[kind], indent=2, sort_keys=False) + "\n"


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in SCHEMAS:
        path = folder / f"{kind}.schema.json"
        path.write_text(render(kind), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(p)
