"""The typed MQTT topic map: ``poise/v1/<site>/<device>/<kind>``.

The device publishes ``status`` (retained birth and last will), ``metrics`` (one aggregate per
window), ``events`` (cues, drifts, baseline, call start/end) and ``health`` (every 60 s); it
subscribes to its own ``config`` (retained, signed) and ``cmd``. Site and device ids are
validated (``[a-z0-9-]{1,64}``) so a topic never holds a wildcard (``+``, ``#``) or an extra
level. The collector subscribes to :func:`shared_subscription`; nothing publishes to a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

ROOT = "poise"
"""First topic level of everything Poise publishes."""
VERSION = "v1"
"""Topic-level contract version (payloads carry their own schema version ``v``)."""

DeviceKind = Literal["status", "metrics", "events", "health"]
"""What a device publishes."""
ControlKind = Literal["config", "cmd"]
"""What a device reads (published by the collector / fleet tools)."""
Kind = Literal["status", "metrics", "events", "health", "config", "cmd"]

DEVICE_KINDS: tuple[str, ...] = get_args(DeviceKind)
CONTROL_KINDS: tuple[str, ...] = get_args(ControlKind)
KINDS: tuple[str, ...] = DEVICE_KINDS + CONTROL_KINDS

DETECTOR_KINDS_FOR_SCHEMA: tuple[str, ...] = (
    "pace",
    "stress",
    "flat",
    "overtalk",
    "monologue",
    "dead_air",
    "empathy",
)
"""Cue/detector names a payload may carry (the same names as ``edge.settings.DETECTOR_NAMES``;
a test keeps them equal, without the contract importing the device's settings)."""

_ID = re.compile(r"^[a-z0-9-]{1,64}$")


class TopicError(ValueError):
    """A topic or id outside the contract."""


def validate_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid site or device id (``[a-z0-9-]{1,64}``), else raise."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise TopicError(
            f"{what} {value!r} is not valid: use 1-64 characters of a-z, 0-9 and '-' "
            "(no MQTT wildcards, '/' or upper case)"
        )
    return value


def default_device_id(hostname: str) -> str:
    """A valid device id derived from a host name (development default): lower-cased, other
    characters turned into '-', cut to 64; ``device`` if nothing is left."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", hostname.lower()).strip("-")[:64].strip("-")
    return cleaned or "device"


@dataclass(frozen=True)
class DeviceTopics:
    """Every topic of one device."""

    site: str
    device: str

    def __post_init__(self) -> None:
        validate_id(self.site, "site id")
        validate_id(self.device, "device id")

    @property
    def base(self) -> str:
        return f"{ROOT}/{VERSION}/{self.site}/{self.device}"

    def topic(self, kind: str) -> str:
        if kind not in KINDS:
            raise TopicError(f"unknown topic kind {kind!r} (known: {', '.join(KINDS)})")
        return f"{self.base}/{kind}"

    @property
    def status(self) -> str:
        return self.topic("status")

    @property
    def metrics(self) -> str:
        return self.topic("metrics")

    @property
    def events(self) -> str:
        return self.topic("events")

    @property
    def health(self) -> str:
        return self.topic("health")

    @property
    def config(self) -> str:
        return self.topic("config")

    @property
    def cmd(self) -> str:
        return self.topic("cmd")

    @property
    def client_id(self) -> str:
        """MQTT client id of the device (unique per site and device; ':' never occurs in ids)."""
        return f"poise:{self.site}:{self.device}"


@dataclass(frozen=True)
class ParsedTopic:
    """A topic split into its levels."""

    site: str
    device: str
    kind: str


def parse_topic(topic: str) -> ParsedTopic:
    """Split ``poise/v1/<site>/<device>/<kind>``; raise :class:`TopicError` on anything else."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[1] != VERSION:
        raise TopicError(f"not a {ROOT}/{VERSION}/<site>/<device>/<kind> topic: {topic[:200]!r}")
    site, device, kind = parts[2], parts[3], parts[4]
    validate_id(site, "site id")
    validate_id(device, "device id")
    if kind not in KINDS:
        raise TopicError(f"unknown topic kind {kind!r}")
    return ParsedTopic(site, device, kind)


def device_filter(site: str = "+", device: str = "+", kind: str = "+") -> str:
    """A subscription filter over device topics (``+`` = any); for subscribing only."""
    for value, what in ((site, "site id"), (device, "device id")):
        if value != "+":
            validate_id(value, what)
    if kind != "+" and kind not in KINDS:
        raise TopicError(f"unknown topic kind {kind!r}")
    return f"{ROOT}/{VERSION}/{site}/{device}/{kind}"


def shared_subscription(group: str, kind: str = "+") -> str:
    """The collectors' MQTT v5 shared subscription ``$share/<group>/poise/v1/+/+/<kind>``:
    the broker hands each message to one collector of the group."""
    validate_id(group, "share group")
    return f"$share/{group}/{device_filter(kind=kind)}"
