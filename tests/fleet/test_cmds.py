"""cmd handling: identify and recalibrate run once per id; stale, unknown, malformed ignored."""

from __future__ import annotations

import json

from edge.fleet.cmds import CmdHandler
from edge.telemetry.envelope import format_ts
from tests.fleet.conftest import FakeWallClock


class Blink:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def identify(self, seconds: float) -> None:
        self.calls.append(seconds)


def cmd(name: str, cid: str, ts: float, **args: object) -> bytes:
    return json.dumps(
        {"v": 1, "kind": "cmd", "id": cid, "ts": format_ts(ts), "cmd": name, "args": args}
    ).encode()


def test_commands() -> None:
    wall = FakeWallClock()
    blink, recal = Blink(), []
    h = CmdHandler(blink, lambda: recal.append(1), wall, max_age_s=600)
    assert h.handle(cmd("identify", "a1", wall(), seconds=12)).status == "done"
    assert h.handle(cmd("identify", "a1", wall(), seconds=12)).status == "duplicate"
    assert h.handle(cmd("identify", "a2", wall(), seconds=9999)).status == "done"
    assert blink.calls == [12.0, 300.0]  # clamped
    assert h.handle(cmd("recalibrate", "r1", wall())).status == "done" and recal == [1]
    assert h.handle(cmd("recalibrate", "r2", wall() - 3600)).status == "stale" and recal == [1]
    assert h.handle(cmd("sign_in", "s1", wall())).status == "unknown"
    for bad in (b"", b"{}", b"[]", b'{"v":1,"kind":"cmd"}', b"\xff"):
        assert h.handle(bad).status == "malformed"
