"""The device registry, as pure functions: what a batch of messages changes about each device.

The registry keeps, per device, first/last seen (collector time, from every message), online
and the versions from the latest **status** message (the retained birth ``online`` or the
retained last will ``offline``), and the latest **health** payload.

"Latest" health is by (boot, seq), so a redelivered or late message never rolls it back. Status
cannot be ordered that way: a last will is made when the device connects, with the same seq as
the birth that follows it, yet takes effect later. Status is therefore taken in the order the
broker delivered it on the collector's own (non-shared, in-order) status subscription — the
order of the retained value — except that a status from an older boot never replaces one from
a newer boot. ``messages`` must be in arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from broker.storage.model import DeviceRow, Message


@dataclass(frozen=True)
class RegistryState:
    """A registry row plus the (boot, seq) of the status and health messages it came from."""

    row: DeviceRow
    status_key: tuple[int, int] | None
    health_key: tuple[int, int] | None


def empty_state(device: str, site: str, received: float) -> RegistryState:
    row = DeviceRow(
        device=device,
        site=site,
        first_seen=received,
        last_seen=received,
        online=None,
        status_ts=None,
        boot=None,
        software=None,
        model=None,
        model_sha256=None,
        config_version=None,
        policy_profile=None,
        status_reason=None,
        agent=None,
        detectors=None,
        health=None,
        health_ts=None,
    )
    return RegistryState(row, None, None)


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


def status_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Registry columns from a status payload (birth or last will); absent ones are left out."""
    model = body.get("model")
    model_name = model.get("name") if isinstance(model, dict) else model
    model_sha = model.get("sha256") if isinstance(model, dict) else None
    detectors = body.get("detectors")
    versions = {
        "software": _text(body.get("software")),
        "model": _text(model_name),
        "model_sha256": _text(model_sha),
        "config_version": _text(body.get("config_version")),
        "policy_profile": _text(body.get("policy_profile")),
        "detectors": list(detectors) if isinstance(detectors, list) else None,
    }
    # A last will says only "offline": keep the versions the birth message reported.
    return {
        "online": body.get("state") == "online",
        "status_reason": _text(body.get("reason")),
        "agent": _text(body.get("agent")),
        **{k: v for k, v in versions.items() if v is not None},
    }


def merge(current: RegistryState | None, messages: Iterable[Message]) -> RegistryState:
    """Fold messages of one device, in arrival order, into its registry state."""
    msgs = list(messages)
    if current is None:
        if not msgs:
            raise ValueError("merge needs at least one message or a current state")
        current = empty_state(msgs[0].device, msgs[0].site, msgs[0].received)
    row = current.row
    status_key, health_key = current.status_key, current.health_key
    changes: dict[str, Any] = {}
    if msgs:  # one pass, one replace: this runs for every message stored
        received = [m.received for m in msgs]
        changes.update(
            site=msgs[-1].site,
            first_seen=min(row.first_seen, *received),
            last_seen=max(row.last_seen, *received),
        )
    for m in msgs:
        if m.kind == "status" and (status_key is None or m.boot >= status_key[0]):
            changes.update(status_ts=m.ts, **status_fields(m.body))
            status_key = (m.boot, m.seq)
        elif m.kind == "health" and (health_key is None or (m.boot, m.seq) > health_key):
            changes.update(health=m.body, health_ts=m.ts)
            health_key = (m.boot, m.seq)
    keys = [k for k in (status_key, health_key) if k is not None]
    if keys and (status_key, health_key) != (current.status_key, current.health_key):
        changes["boot"] = max(keys)[0]
    return RegistryState(replace(row, **changes), status_key, health_key)
