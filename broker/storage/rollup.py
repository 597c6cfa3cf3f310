"""Hourly rollups, as pure functions over stored payloads.

A rollup is one device-hour: for every numeric leaf of the metrics windows (dotted path, e.g.
``agent_side.speech_s``) its count, sum, min and max, and the number of events by type
(:func:`event_type`: ``cue.pace``, ``drift.stress``, ``call``, ...). Booleans and
strings are not rolled up; the raw windows keep them for as long as raw retention allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from broker.storage.model import Point, Rollup

HOUR_S = 3600.0

#: Envelope fields and audio-clock times: not measurements.
_ENVELOPE = frozenset({"v", "kind", "site", "device", "boot", "seq", "ts", "t", "t_start", "t_end"})


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


def event_type(body: dict[str, Any]) -> str | None:
    """What an event payload counts as: ``cue.pace``, ``drift.stress``, ``baseline.frozen``,
    ``call`` (a call start); None for the closing half of a pair (cue/drift off, call end)."""
    ev = body.get("event")
    if not isinstance(ev, dict):
        return None
    typ, state = ev.get("type"), ev.get("state")
    if typ in ("cue", "drift"):
        return f"{typ}.{ev.get('cue')}" if state == "on" else None
    if typ == "call":
        return "call" if state == "start" else None
    if typ == "baseline":
        return f"baseline.{state}"
    return str(typ)


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
        if t is not None:
            counts[t] = counts.get(t, 0) + 1
    return Rollup(device, hour, windows, fields, dict(sorted(counts.items())))
