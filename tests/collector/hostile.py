"""A seeded generator of malformed and hostile telemetry messages, every one invalid by
construction (each category says why), for the collector's fuzz tests."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

from tests.support.telemetry import DeviceSim

Hostile = tuple[str, str, bytes]
"""(category, topic, payload)."""


_TEMPLATES: dict[str, tuple[str, bytes]] = {}


def _valid(sim: DeviceSim, kind: str = "metrics") -> tuple[str, dict[str, Any]]:
    """A fresh copy of one valid payload of ``kind`` (made and checked once by the contract)."""
    if kind not in _TEMPLATES:
        _TEMPLATES[kind] = sim.stream(kind)
    topic, raw = _TEMPLATES[kind]
    return topic, json.loads(raw)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


class Generator:
    """``next()`` yields hostile messages cycling through the categories at random."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # a device of its own, so hostile payloads never reuse a real (device, boot, seq)
        self.sim = DeviceSim("site-h", "hostile", boot=9)
        self.categories: list[Callable[[], tuple[str, bytes]]] = [
            self.random_bytes,
            self.huge,
            self.deep,
            self.wrong_type,
            self.non_finite,
            self.odd_unicode,
            self.spoofed,
            self.bad_topic,
            self.not_object,
            self.missing_or_extra,
            self.bad_version,
            self.bad_numbers,
            self.bad_ts,
            self.truncated,
        ]

    def __iter__(self) -> Iterator[Hostile]:
        while True:
            f = self.rng.choice(self.categories)
            topic, payload = f()
            yield f.__name__, topic, payload

    def take(self, n: int) -> list[Hostile]:
        it = iter(self)
        return [next(it) for _ in range(n)]

    # -- categories ------------------------------------------------------------------------------
    def random_bytes(self) -> tuple[str, bytes]:
        topic, _ = _valid(self.sim)
        n = self.rng.randrange(0, 300)
        data = self.rng.randbytes(n)
        if data.strip().startswith((b"{", b"[")) or not data.strip():
            data = b"\xff" + data  # never accidentally JSON
        return topic, data

    def huge(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        body["baseline"]["state"] = "x" * self.rng.randrange(66_000, 70_000)
        return topic, _dump(body)

    def deep(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        depth = self.rng.choice([9, 50, 500, 5000, 60_000])
        nested: Any = 1
        if depth < 1000:
            for _ in range(depth):
                nested = {"a": nested} if self.rng.random() < 0.5 else [nested]
            body["cues"] = nested
            return topic, _dump(body)
        return topic, b"[" * depth + b"]" * depth

    def wrong_type(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        key = self.rng.choice(["boot", "seq", "ts", "agent_side", "duration_s", "cues"])
        body[key] = self.rng.choice(["12", [1], {"x": 1}, True, None, -1.5])
        if key == "boot" and body[key] is True:
            body[key] = "1"
        if key in ("duration_s",) and body[key] is None:
            body[key] = "ten"
        return topic, _dump(body)

    def non_finite(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        raw = _dump(body).decode()
        bad = self.rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
        out = raw.replace('"duration_s": 10.0', f'"duration_s": {bad}')
        assert out != raw
        return topic, out.encode()

    def odd_unicode(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim, "events")
        choice = self.rng.randrange(4)
        raw = json.dumps(body)
        if choice == 0:  # a lone surrogate, escaped
            return topic, raw.replace('"reason": "x"', '"reason": "\\ud800"').encode()
        if choice == 1:  # NUL, escaped
            return topic, raw.replace('"reason": "x"', '"reason": "a\\u0000b"').encode()
        if choice == 2:  # invalid UTF-8 (CESU-8 surrogate bytes)
            return topic, raw.replace('"reason": "x"', '"reason": "\xff"').encode()[:-2] + (
                b"\xed\xa0\x80}"
            )
        body["device"] = "h\u0131dden"  # a dotless i that looks like an id
        return topic, json.dumps(body, ensure_ascii=False).encode()

    def spoofed(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        field = self.rng.choice(["device", "site"])  # (a wrong kind fails the schema's const)
        body[field] = {"device": "someone-else", "site": "other-site"}[field]
        return topic, _dump(body)

    def bad_topic(self) -> tuple[str, bytes]:
        _, body = _valid(self.sim)
        topic = self.rng.choice(
            [
                "poise/v1/Site-A/hostile/metrics",
                "poise/v1/site-h/hostile/unknown",
                "poise/v1/site-h/" + "x" * 65 + "/metrics",
                "poise/v1/site_h/hostile/metrics",
                "poise/v1/site-h/h\u00f6stile/metrics",
                "poise/v1/ /hostile/metrics",
            ]
        )
        return topic, _dump(body)

    def not_object(self) -> tuple[str, bytes]:
        topic, _ = _valid(self.sim)
        return topic, self.rng.choice([b"[]", b'"metrics"', b"42", b"null", b"true", b"[1,2]"])

    def missing_or_extra(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        if self.rng.random() < 0.5:
            del body[self.rng.choice(["v", "kind", "site", "device", "boot", "seq", "ts", "cues"])]
        else:
            body["transcript"] = "the customer said ..."  # never allowed to leave the device
        return topic, _dump(body)

    def bad_version(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        body["v"] = self.rng.choice([0, 2, 99, "1", 1.5, None, True])
        return topic, _dump(body)

    def bad_numbers(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        key, value = self.rng.choice(
            [("boot", 0), ("seq", -1), ("seq", 2**64), ("boot", 2**70), ("duration_s", -3)]
        )
        body[key] = value
        return topic, _dump(body)

    def bad_ts(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        body["ts"] = self.rng.choice(
            [
                "2026-13-45T25:61:61.000Z",
                "0000-00-00T00:00:00.000Z",
                "yesterday",
                "2026-12-01 20:00:00",
                "2026-02-30T00:00:00.000Z",
            ]
        )
        return topic, _dump(body)

    def truncated(self) -> tuple[str, bytes]:
        topic, body = _valid(self.sim)
        raw = _dump(body)
        return topic, raw[: self.rng.randrange(1, len(raw) - 1)]
