"""The device refuses unsigned, tampered, foreign, expired, older or invalid config and keeps
the previous one (in memory and on disk)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.fleet import signing
from edge.fleet.config_keeper import ConfigKeeper
from edge.settings import DeviceSettings
from edge.settings.loader import from_mapping
from edge.telemetry.envelope import format_ts
from tests.fleet.conftest import FakeWallClock

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()


def doc(
    version: int,
    now: float,
    settings: dict[str, Any] | None = None,
    *,
    expires_in: float = 86400,
    device: str = "d1",
    key: Any = KEY,
) -> dict[str, Any]:
    signed = {
        "type": "poise-config",
        "v": 1,
        "site": "s1",
        "device": device,
        "version": version,
        "issued": format_ts(now),
        "expires": format_ts(now + expires_in),
        "settings": settings if settings is not None else {"budget": {"min_gap_s": 30.0}},
        "model": None,
    }
    return signing.sign(key, signed)


def keeper(path: Path, wall: FakeWallClock) -> ConfigKeeper:
    return ConfigKeeper(
        path,
        [KEY.public_key()],
        "s1",
        "d1",
        wall,
        validate=lambda s: from_mapping(DeviceSettings, s),
    )


def raw(d: Any) -> bytes:
    return json.dumps(d).encode()


def test_applies_persists_and_reports_live_keys(tmp_path: Path, wall: FakeWallClock) -> None:
    k = keeper(tmp_path / "config.json", wall)
    settings = {
        "budget": {"min_gap_s": 30.0},
        "policy": {"stress": "off"},
        "detectors": {"pace": {"enter": 1.5}},
        "baseline": {"pace_fast_sps": 7.0},
    }
    out = k.offer(raw(doc(3, wall(), settings)))
    assert out.status == "applied" and out.version == 3, out
    assert out.live == ("budget.min_gap_s", "detectors.pace.enter")
    assert out.restart == ("baseline.pace_fast_sps", "policy.stress")
    assert k.offer(raw(doc(3, wall()))).status in ("unchanged", "refused")
    again = keeper(tmp_path / "config.json", wall)  # restart: last good from disk
    assert again.version == 3 and again.settings["policy"]["stress"] == "off"


def test_same_retained_document_again_is_unchanged(tmp_path: Path, wall: FakeWallClock) -> None:
    k = keeper(tmp_path / "c.json", wall)
    d = doc(1, wall())
    assert k.offer(raw(d)).status == "applied"
    assert k.offer(raw(d)).status == "unchanged"


def _tampered(d: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(d)
    t["signed"]["settings"]["budget"]["min_gap_s"] = 1.0
    return t


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda now: {"signed": doc(5, now)["signed"], "signatures": []}, "unsigned"),
        (lambda now: doc(5, now)["signed"], "unsigned"),
        (lambda now: _tampered(doc(5, now)), "signature"),
        (lambda now: doc(5, now, key=OTHER), "signature"),
        (lambda now: doc(5, now, expires_in=-1), "expired"),
        (lambda now: doc(2, now), "rollback"),
        (lambda now: doc(5, now, device="d2"), "wrong-device"),
        (lambda now: doc(5, now, {"telemetry": {"broker": "mqtt://evil:1883"}}), "forbidden"),
        (lambda now: doc(5, now, {"budget": {"nope": 1}}), "invalid"),
        (lambda now: doc(5, now, {"budget": {"min_gap_s": -4}}), "invalid"),
    ],
)
def test_refused_and_previous_kept(
    tmp_path: Path, wall: FakeWallClock, make: Any, reason: str
) -> None:
    path = tmp_path / "config.json"
    k = keeper(path, wall)
    assert k.offer(raw(doc(4, wall()))).status == "applied"
    before = path.read_bytes()
    out = k.offer(raw(make(wall())))
    assert (out.status, out.reason, out.version) == ("refused", reason, 4)
    assert k.version == 4 and path.read_bytes() == before
    assert keeper(path, wall).version == 4


def test_garbage_is_refused(tmp_path: Path, wall: FakeWallClock) -> None:
    k = keeper(tmp_path / "c.json", wall)
    for p in (b"", b"\xff\xfe", b"[1,2]", b'{"signed": 1, "signatures": 2}', b"{" * 5000):
        assert k.offer(p).status == "refused"
    assert k.version == 0 and not (tmp_path / "c.json").exists()


def test_expired_stored_config_keeps_running(tmp_path: Path, wall: FakeWallClock) -> None:
    k = keeper(tmp_path / "c.json", wall)
    k.offer(raw(doc(7, wall(), expires_in=60)))
    wall.t += 3600
    again = keeper(tmp_path / "c.json", wall)
    assert again.version == 7  # stale but signed: kept rather than nothing
    assert again.offer(raw(doc(8, wall() - 7200, expires_in=60))).reason == "expired"
