"""The commands a device accepts on its ``cmd`` topic (schema ``docs/schemas/cmd.schema.json``).

``identify`` blinks the cue (LED or puck; white blink, double buzz) so IT can find the desk;
``recalibrate`` forgets the agent's baseline; ``sign_in`` (``args.agent``: the agent's
pseudonymous id) and ``sign_out`` tell the device who sits at the desk, so their own baseline is
used. Each command id is handled once (the broker may
deliver a QoS 1 message twice); commands older than ``max_age_s`` are ignored (a queued
``identify`` from yesterday helps no one).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from edge.telemetry.envelope import WallClock, parse_ts

log = logging.getLogger(__name__)


class Blinker(Protocol):
    """Shows the identify blink for a while (the cue output behind it)."""

    def identify(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class CmdOutcome:
    """What became of one command."""

    cmd: str
    """The command name (or ``?``)."""
    id: str
    """Its id."""
    status: str
    """``done``, ``duplicate``, ``stale``, ``unknown`` or ``malformed``."""


class CmdHandler:
    """Validates and runs commands; remembers the last ids to drop redeliveries."""

    def __init__(
        self,
        blinker: Blinker,
        recalibrate: Callable[[], None],
        wall_clock: WallClock,
        max_age_s: float = 600.0,
        remember: int = 256,
        sign_in: Callable[[str | None], None] | None = None,
    ) -> None:
        self.blinker = blinker
        self.recalibrate = recalibrate
        self.sign_in = sign_in
        self.wall_clock = wall_clock
        self.max_age_s = max_age_s
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def handle(self, payload: bytes) -> CmdOutcome:
        try:
            msg: Any = json.loads(payload)
            if not isinstance(msg, dict) or msg.get("kind") != "cmd" or msg.get("v") != 1:
                raise ValueError("not a v1 cmd")
            name, cid, args = str(msg["cmd"]), str(msg["id"]), msg.get("args", {})
            age = self.wall_clock() - parse_ts(str(msg["ts"]))
            if not isinstance(args, dict):
                raise ValueError("args must be an object")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("malformed cmd ignored")
            return CmdOutcome("?", "", "malformed")
        if cid in self._seen:
            return CmdOutcome(name, cid, "duplicate")
        self._seen[cid] = None
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        if age > self.max_age_s:
            log.info("cmd %s %s is %.0f s old: ignored", name, cid, age)
            return CmdOutcome(name, cid, "stale")
        if name == "identify":
            seconds = args.get("seconds", 30)
            seconds = float(seconds) if isinstance(seconds, int | float) else 30.0
            self.blinker.identify(min(max(seconds, 1.0), 300.0))
        elif name == "recalibrate":
            self.recalibrate()
        elif name in ("sign_in", "sign_out") and self.sign_in is not None:
            agent = args.get("agent") if name == "sign_in" else None
            if name == "sign_in":
                from edge.device.agent_store import check_agent_id
                from edge.errors import InputError

                try:
                    agent = check_agent_id(agent) if isinstance(agent, str) else None
                except InputError:
                    agent = None
                if agent is None:
                    log.warning("cmd sign_in %s without a valid args.agent ignored", cid)
                    return CmdOutcome(name, cid, "malformed")
            self.sign_in(agent)
        else:
            return CmdOutcome(name, cid, "unknown")
        log.info("cmd %s %s done", name, cid)
        return CmdOutcome(name, cid, "done")
