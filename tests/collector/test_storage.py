"""The storage query API, identical on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
from typing import Any

from broker.storage import Message, Retention, SqlStore
from broker.storage.rollup import hour_of

T0 = 1_790_000_000.0  # a fixed wall clock (2026-09-21)


def msg(
    device: str, boot: int, seq: int, kind: str = "metrics", ts: Any = None, **body: Any
) -> Message:
    t = T0 + seq if ts is None else ts
    full = {"v": 1, "device": device, "boot": boot, "seq": seq, "ts": t, **body}
    return Message("site-a", device, kind, boot, seq, t, t + 0.5, full, json.dumps(full))


def test_write_is_idempotent(store: SqlStore) -> None:
    batch = [msg("d1", 1, s, agent_side={"speech_s": 1.0}) for s in range(5)]
    assert store.write(batch) == 5
    assert store.write(batch) == 0
    assert store.write([*batch[2:], msg("d1", 1, 5)]) == 1
    assert store.counts() == {"rows": 6, "keys": 6, "devices": 1}
    assert store.gaps() == []


def test_gaps_per_device_and_boot(store: SqlStore) -> None:
    store.write([msg("d1", 1, s) for s in (0, 1, 4, 5, 9)])
    store.write([msg("d1", 2, s) for s in (2, 3)])
    store.write([msg("d2", 1, s) for s in range(3)])
    got = [(g.device, g.boot, g.first, g.last) for g in store.gaps()]
    assert got == [("d1", 1, 2, 3), ("d1", 1, 6, 8), ("d1", 2, 0, 1)]
    assert [g.count for g in store.gaps("d1")] == [2, 3, 2]
    assert store.gaps("d2") == []


def test_registry_status_in_arrival_order_health_by_seq(store: SqlStore) -> None:
    online: dict[str, Any] = {"state": "online", "reason": "birth", "software": "0.1.0"}
    online.update(detectors=["pace"], model={"name": "m", "sha256": "ab"})
    store.write([msg("d1", 3, 0, "status", **online, config_version=7, policy_profile="eu")])
    store.write([msg("d1", 3, 1, "health", load1=0.5)])
    store.write([msg("d1", 3, 0, "health", load1=0.9)])  # late health: no roll-back
    store.write([msg("d1", 2, 5, "status", **online)])  # an older boot's birth: ignored
    store.write([msg("d1", 3, 0, "status", state="offline", reason="lost")])  # the will (same seq)
    d = store.device("d1")
    assert d is not None
    assert d.online is False and d.status_reason == "lost"
    assert (d.software, d.model, d.model_sha256) == ("0.1.0", "m", "ab")
    assert (d.config_version, d.policy_profile, d.detectors) == ("7", "eu", ["pace"])
    assert d.boot == 3
    assert d.health is not None and d.health["load1"] == 0.5
    assert d.first_seen == T0 + 0.5 and d.last_seen == T0 + 5.5
    # status is state, outside the stream: only the health message is a telemetry row
    assert store.counts() == {"rows": 2, "keys": 2, "devices": 1}
    assert sorted(p.body["state"] for p in store.status_history("d1")) == [
        "offline",
        "online",
        "online",
    ]
    assert store.device("nope") is None
    assert [r.device for r in store.registry()] == ["d1"]
    assert store.registry(site="other") == []


def test_floor_series_events(store: SqlStore) -> None:
    store.write([msg("d1", 1, s, agent_side={"rate": float(s)}) for s in range(4)])
    store.write([msg("d1", 1, 4, "events", event={"type": "cue", "cue": "pace", "state": "on"})])
    store.write([msg("d2", 1, 0, "status", state="online")])
    floor = {f.device.device: f for f in store.floor()}
    assert floor["d1"].metrics is not None and floor["d1"].metrics.body["agent_side"]["rate"] == 3.0
    assert floor["d1"].event is not None and floor["d1"].event.body["event"]["cue"] == "pace"
    assert floor["d2"].metrics is None and floor["d2"].device.online is True
    pts = store.series("d1", since=T0 + 1, until=T0 + 3)
    assert [p.seq for p in pts] == [1, 2]
    assert [p.seq for p in store.events()] == [4]


def test_rollups_and_retention(store: SqlStore) -> None:
    old = T0 - 40 * 86400
    store.write([msg("d1", 1, s, ts=old + s, agent_side={"speech_s": 2.0}) for s in range(3)])
    store.write([msg("d1", 1, 3 + s, agent_side={"speech_s": float(s)}) for s in range(4)])
    on = {"type": "cue", "cue": "pace", "state": "on"}
    off = {**on, "state": "off"}
    store.write([msg("d1", 1, 7, "events", event=on), msg("d1", 1, 8, "events", event=off)])
    done = store.maintain(T0, Retention(raw_days=30, rollup_days=730))
    assert done["raw_deleted"] == 3
    assert done["rollups"] == 2
    rolls = {r.hour: r for r in store.rollups("d1")}
    assert (
        rolls[hour_of(old)].windows == 3 and rolls[hour_of(old)].mean("agent_side.speech_s") == 2.0
    )
    now = rolls[hour_of(T0)]
    assert now.windows == 4 and now.fields["agent_side.speech_s"]["max"] == 3.0
    assert now.events == {"cue.pace": 1}
    assert store.counts()["rows"] == 6
    assert store.gaps() == []  # deleted rows are not reported missing
    store.maintain(T0, Retention(raw_days=30, rollup_days=1))
    assert [r.hour for r in store.rollups()] == [hour_of(T0)]
    assert store.compute_rollups() == 0
