"""Hourly rollups, as pure functions over stored payloads.

A rollup is one device-hour: for every numeric leaf of the metrics windows (dotted path, e.g.
``agent.speech_s``) its count, sum, min and max, and the number of events by type. Booleans and
strings are not rolled up; the raw windows keep them for as long as raw retention allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from broker.storage.model import Point, Rollup

HOUR_S = 3600.0

#: Envelope fields that are not measurements.
_ENVELOPE = frozenset({"v", "device", "boot", "seq", "ts"})


def hour_of(ts: float) -> float:
    """Start of the UTC hour containing ``ts``."""
    return math.floor(ts / HOUR_S) * HOUR_S


def numeric_leaves(body: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every finite int/float leaf of ``body`` as (dotted path, value); bools and lists skipped."""
    for k, v in body.items():
        if not prefix and k in _ENVELOPE:
            continue
        path = f"{prefix}{k}"
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            if math.isfinite(v):
                yield path, float(v)
        elif isinstance(v, dict):
            yield from numeric_leaves(v, path + ".")


def event_type(body: dict[str, Any]) -> str:
    """The type of an event payload (``type``, else ``kind``, else ``event``)."""
    for key in ("type", "kind", "event"):
        v = body.get(key)
        if isinstance(v, str):
            return v
    return "unknown"


def rollup(device: str, hour: float, metrics: Iterable[Point], events: Iterable[Point]) -> Rollup:
    """The rollup of one device-hour from its metrics windows and events."""
    fields: dict[str, dict[str, float]] = {}
    windows = 0
    for p in metrics:
        windows += 1
        for path, v in numeric_leaves(p.body):
            f = fields.get(path)
            if f is None:
                fields[path] = {"n": 1.0, "sum": v, "min": v, "max": v}
            else:
                f["n"] += 1
                f["sum"] += v
                f["min"] = min(f["min"], v)
                f["max"] = max(f["max"], v)
    counts: dict[str, int] = {}
    for p in events:
        t = event_type(p.body)
        counts[t] = counts.get(t, 0) + 1
    return Rollup(device, hour, windows, fields, dict(sorted(counts.items())))
