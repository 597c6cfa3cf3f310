"""What every route needs: store, floor state, settings, policy, clocks, live-update broadcaster."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from broker.accounts.ratelimit import LoginRateLimiter
from broker.accounts.roles import Principal, Role, can_see_desk
from broker.accounts.store import AccountStore
from broker.dashboard.floor import DeskLive, FloorState
from broker.dashboard.settings import DashboardSettings
from broker.dashboard.store import DashboardStore
from broker.dashboard.viewer_policy import ViewerPolicy


class Client:
    """One live-stream connection: the desks changed since it last sent."""

    def __init__(self, max_dirty: int = 20000) -> None:
        self.dirty: set[str] = set()
        self.event = asyncio.Event()
        self.max_dirty = max_dirty


class Broadcaster:
    """Wakes stream clients when desks change (called from any thread)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: set[Client] = set()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._scheduled = False

    def changed(self, device: str) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            self._pending.add(device)
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # loop closed while shutting down
            loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending, self._scheduled = self._pending, set(), False
        for c in self.clients:
            c.dirty |= pending
            c.event.set()


@dataclass
class Ctx:
    """Shared by all routes (``app.state.ctx``)."""

    store: DashboardStore
    floor: FloorState
    settings: DashboardSettings
    policy: ViewerPolicy
    accounts: AccountStore
    limiter: LoginRateLimiter
    wall_clock: Callable[[], float]
    broadcaster: Broadcaster = field(default_factory=Broadcaster)

    def desk_for(self, who: Principal, device: str) -> DeskLive:
        """The desk if ``who`` may see it: 404 unknown, 403 someone else's."""
        d = self.floor.get(device)
        if d is None:
            raise HTTPException(
                status_code=404 if who.role is Role.ADMIN else 403,
                detail="no such desk" if who.role is Role.ADMIN else "not yours",
            )
        if not can_see_desk(who, d.site, d.team, d.agent):
            raise HTTPException(status_code=403, detail="not yours")
        return d


def ctx_of(request: Request) -> Ctx:
    ctx: Ctx = request.app.state.ctx
    return ctx
