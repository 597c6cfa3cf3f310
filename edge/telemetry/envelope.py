"""The envelope every device payload carries, and the wall-clock timestamp format.

``v``: payload schema version (:data:`SCHEMA_VERSION`); ``kind``: the topic kind; ``site`` and
``device``: the publisher's ids (the collector refuses a payload whose ids differ from its
topic's); ``boot``: a per-device counter persisted (fsynced) before anything is sent, incremented
at every start; ``seq``: monotonic per boot, never reused, also across a power cut — (device,
boot, seq) identifies a message, so at-least-once delivery can be stored exactly once;
``ts``: wall-clock UTC when the payload was made, RFC 3339 with milliseconds and ``Z``.

``status`` payloads are state, not part of the gap-checked stream: they are retained and carry
in ``seq`` the next stream sequence number at the time they were made (so a reader knows how
many ``metrics``/``events``/``health`` messages to expect of that boot up to then).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 1
"""Version of the payload schemas in :mod:`edge.telemetry.schemas`."""
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
"""Payload versions a reader of this code understands."""
FIRST_SEQ = 0
"""The first stream sequence number of every boot (a boot's stream is seq 0, 1, 2, ...)."""
STREAM_KINDS: tuple[str, ...] = ("metrics", "events", "health")
"""The gap-checked stream (one seq space per device and boot); ``status`` is state, not stream."""
MAX_PAYLOAD_BYTES = 64 * 1024
"""No valid payload is larger (the broker's ``max_packet_size`` and the collector's cap)."""

WallClock = Callable[[], float]
"""Seconds since the Unix epoch (``time.time``); injected so tests stay deterministic."""


def format_ts(epoch_s: float) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-12-01T20:50:41.123Z``."""
    if not math.isfinite(epoch_s):
        raise ValueError("timestamp must be finite")
    ms = round(epoch_s * 1000)
    d = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC).replace(microsecond=(ms % 1000) * 1000)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_ts(text: str) -> float:
    """Seconds since the epoch of a timestamp written by :func:`format_ts` (or any RFC 3339)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def envelope(
    kind: str, site: str, device: str, boot: int, seq: int, ts: float, body: dict[str, Any]
) -> dict[str, Any]:
    """A complete payload: the envelope fields first, then ``body``'s."""
    out: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "kind": kind,
        "site": site,
        "device": device,
        "boot": boot,
        "seq": seq,
        "ts": format_ts(ts),
    }
    for k, value in body.items():
        if k in out:
            raise ValueError(f"payload body may not set envelope field {k!r}")
        out[k] = value
    return out
