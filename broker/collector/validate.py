"""Validation of one received MQTT message against the telemetry contract (pure, no I/O).

Checks, in order, each with its own rejection reason: topic shape and ids (``bad_topic``), size
cap (``too_large``), UTF-8 (``not_utf8``), JSON syntax (``not_json``), nesting depth
(``too_deep``), NaN/Infinity or overflowing numbers (``non_finite``), known schema version
(``unknown_version``), the kind's JSON Schema (``schema``), topic ids and kind equal to the
payload's (``spoofed``), integers that fit the store (``out_of_range``), a parseable timestamp
(``bad_ts``), and strings every backend can store (no NUL, no lone surrogates: ``bad_unicode``).
Messages on control topics (``config``, ``cmd``) are not telemetry and are ``ignored``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from broker.storage.model import Message
from edge.telemetry.envelope import MAX_PAYLOAD_BYTES, SUPPORTED_VERSIONS, parse_ts
from edge.telemetry.schemas import validator
from edge.telemetry.topics import DEVICE_KINDS, TopicError, parse_topic

REASONS = (
    "bad_topic",
    "too_large",
    "not_utf8",
    "not_json",
    "too_deep",
    "non_finite",
    "unknown_version",
    "schema",
    "spoofed",
    "out_of_range",
    "bad_ts",
    "bad_unicode",
)
"""Every rejection reason (the ``reason`` label of the rejected-messages counter)."""

MAX_DEPTH = 8
"""Deepest nesting of a valid payload is 4 (health.sinks.<name>.errors); this leaves margin."""
INT64_MAX = 2**63 - 1
_EXPONENT = re.compile(rb"\d[eE][+-]?\d")


@dataclass(frozen=True)
class Rejected:
    reason: str
    """One of :data:`REASONS`."""
    detail: str
    """A short human explanation (for the rate-limited log line; never the payload itself)."""


@dataclass(frozen=True)
class Ignored:
    """A message on a topic the collector does not store (``config``, ``cmd``)."""

    kind: str


Verdict = Message | Rejected | Ignored


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth_ok(obj: Any, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if d > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return True


def _all_finite(obj: Any) -> bool:
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return False
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _unstorable(obj: Any) -> str | None:
    """Why a decoded payload holds a string no backend can store (NUL, lone surrogate)."""
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if "\x00" in node:
                return "NUL character"
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return "lone surrogate"
    return None


def validate(
    topic: str, payload: bytes, received: float, *, max_bytes: int = MAX_PAYLOAD_BYTES
) -> Verdict:
    """Judge one message; return the :class:`Message` to store, or why not."""
    try:
        t = parse_topic(topic)
    except TopicError as exc:
        return Rejected("bad_topic", str(exc)[:120])
    if t.kind not in DEVICE_KINDS:
        return Ignored(t.kind)
    if len(payload) > max_bytes:
        return Rejected("too_large", f"{len(payload)} bytes > {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected("not_utf8", f"byte {exc.start}")
    try:
        body = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        return Rejected("too_deep", "nesting exhausts the parser")
    except ValueError as exc:
        if "JSON number" in str(exc):
            return Rejected("non_finite", str(exc)[:80])
        return Rejected("not_json", str(exc)[:80])
    if not isinstance(body, dict):
        return Rejected("schema", f"payload is a JSON {type(body).__name__}, not an object")
    # nesting can be no deeper than the number of openers (a C-speed count): walk only if needed
    openers = payload.count(b"{") + payload.count(b"[")
    if openers > MAX_DEPTH and not _depth_ok(body, MAX_DEPTH):
        return Rejected("too_deep", f"nested deeper than {MAX_DEPTH}")
    if _EXPONENT.search(payload) and not _all_finite(body):
        return Rejected("non_finite", "a number overflows to infinity")
    v = body.get("v")
    if isinstance(v, bool) or v not in SUPPORTED_VERSIONS:
        return Rejected("unknown_version", f"v={str(v)[:20]!r}")
    try:
        validator(t.kind)(body)
    except Exception as exc:  # fastjsonschema.JsonSchemaException and anything it trips on
        return Rejected("schema", str(exc)[:120])
    if body["device"] != t.device or body["site"] != t.site or body["kind"] != t.kind:
        return Rejected("spoofed", f"payload ids differ from topic {t.site}/{t.device}/{t.kind}")
    boot, seq = body["boot"], body["seq"]
    if boot > INT64_MAX or seq > INT64_MAX:
        return Rejected("out_of_range", "boot or seq beyond 64 bits")
    try:
        ts = parse_ts(body["ts"])
    except (ValueError, OverflowError, OSError) as exc:
        return Rejected("bad_ts", str(exc)[:80])
    if b"\\u" in payload:  # escapes may spell NUL or lone surrogates, which PostgreSQL refuses
        problem = _unstorable(body)
        if problem:
            return Rejected("bad_unicode", problem)
    call = body.get("call")
    return Message(
        site=t.site,
        device=t.device,
        kind=t.kind,
        boot=int(boot),
        seq=int(seq),
        ts=ts,
        received=received,
        body=body,
        text=text,
        call=call if isinstance(call, str) else None,
    )
