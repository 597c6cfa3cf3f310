"""``create_app``: the dashboard as a FastAPI app the collector process mounts or serves.

    hub = TelemetryHub()                      # the collector publishes stored payloads here
    app = create_app(store, settings, hub=hub)
    uvicorn.run(app, host="127.0.0.1", port=8080)

The app keeps the live floor in memory (seeded from ``store.registry()`` and the desk
directory, then folded from every hub payload) and answers history from ``store``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from broker.accounts.ratelimit import LoginRateLimiter, RateLimitSettings
from broker.accounts.store import AccountStore
from broker.dashboard import api_desk, api_fleet, api_floor, pages
from broker.dashboard.auth import SessionCsrfMiddleware
from broker.dashboard.context import Ctx
from broker.dashboard.desks import load_desks
from broker.dashboard.floor import FloorState
from broker.dashboard.hub import TelemetryHub
from broker.dashboard.model import Desk
from broker.dashboard.settings import DashboardSettings
from broker.dashboard.store import DashboardStore
from broker.dashboard.viewer_policy import viewer_policy

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(
    store: DashboardStore,
    settings: DashboardSettings,
    *,
    hub: TelemetryHub | None = None,
    accounts: AccountStore | None = None,
    desks: list[Desk] | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The dashboard app. ``clock`` drives rate limits; ``wall_clock`` ages, sessions, tiles."""
    if not (STATIC / "vendor" / "uPlot.iife.min.js").exists():
        log.warning("uPlot missing from %s/vendor: run `make dashboard-assets`", STATIC)
    accounts = accounts or AccountStore(
        settings.accounts_db,
        wall_clock,
        idle_s=settings.session_idle_s,
        absolute_s=settings.session_absolute_s,
    )
    limiter = LoginRateLimiter(
        RateLimitSettings(
            settings.login_failures_per_account,
            settings.login_failures_per_address,
            settings.login_window_s,
        ),
        clock,
    )
    floor = FloorState(settings.stale_after_s)
    directory = list(desks or [])
    if settings.desks_file:
        directory += load_desks(settings.desks_file)
    floor.load(directory, store.registry())
    ctx = Ctx(
        store,
        floor,
        settings,
        viewer_policy(settings.policy_profile, settings.min_aggregate_agents),
        accounts,
        limiter,
        wall_clock,
    )

    app = FastAPI(
        title="Poise dashboard API",
        version="1",
        description="What the dashboard pages read: floor, desk timelines, calls, fleet, alerts.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.ctx = ctx
    app.include_router(api_floor.router)
    app.include_router(api_desk.router)
    app.include_router(api_fleet.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.middleware("http")
    async def security_headers(request: Any, call_next: Any) -> Any:
        resp = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            if not (request.url.path.startswith("/api/docs") and k == "Content-Security-Policy"):
                resp.headers.setdefault(k, v)
        if request.url.path.startswith("/api/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    app.add_middleware(SessionCsrfMiddleware, accounts=accounts)

    if hub is not None:

        def on_payload(kind: str, site: str, device: str, payload: Mapping[str, Any]) -> None:
            changed = floor.apply(kind, site, device, payload)
            if changed:
                ctx.broadcaster.changed(changed)

        app.state.unsubscribe = hub.subscribe(on_payload)
    return app
