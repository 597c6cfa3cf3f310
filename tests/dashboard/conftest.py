"""A dashboard over a MemoryStore with a hub, cheap argon2, and hand-driven clocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bench.sim_devices import SimDevice
from broker.accounts.passwords import PasswordHashing
from broker.accounts.store import AccountStore
from broker.dashboard import DashboardSettings, TelemetryHub, create_app
from broker.dashboard.collector_store import CollectorStore
from broker.dashboard.memory_store import MemoryStore
from broker.dashboard.model import Desk
from broker.storage import Message, open_store
from edge.telemetry.envelope import parse_ts

T0 = 1_800_000_000.0
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class SqlWriter:
    """Writes payloads into the collector's SQLite store, as the collector does (one batch)."""

    def __init__(self, url: str) -> None:
        self.db = open_store(url)

    def ingest(self, kind: str, site: str, device: str, payload: dict[str, Any]) -> None:
        ts = parse_ts(payload["ts"])
        self.db.write(
            [
                Message(
                    site,
                    device,
                    kind,
                    payload["boot"],
                    payload["seq"],
                    ts,
                    ts,
                    payload,
                    json.dumps(payload),
                    payload.get("call"),
                )
            ]
        )


@dataclass
class Dash:
    app: FastAPI
    hub: TelemetryHub
    store: Any
    accounts: AccountStore
    clock: Clock
    writer: Any = None
    devices: dict[str, SimDevice] = field(default_factory=dict)

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        """What the collector does after commit: store, then publish to the hub."""
        (self.writer or self.store).ingest(kind, payload["site"], payload["device"], payload)
        self.hub.publish(kind, payload["site"], payload["device"], payload)

    def client(self, name: str | None = None) -> TestClient:
        c = TestClient(self.app, base_url="https://testserver")
        if name:
            login(c, name)
        return c


def login(c: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = c.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    return c.post(
        "/login",
        data={"username": name, "password": password, "csrf": csrf},
        follow_redirects=False,
    )


def csrf_of(c: TestClient) -> str:
    return str(c.get("/api/v1/me").json()["csrf"])


DESKS = [
    Desk("desk-a1", "hq", "North 1", "north", "ann"),
    Desk("desk-a2", "hq", "North 2", "north", "bob"),
    Desk("desk-b1", "hq", "South 1", "south", "cat"),
    Desk("desk-x1", "branch", "<script>window.pwned=1</script>", "east", "dan"),
]


def make_dash(tmp_path: Any, profile: str = "default", backend: str = "memory", **kw: Any) -> Dash:
    clock = Clock(T0)
    settings = DashboardSettings(policy_profile=profile, **kw)
    accounts = AccountStore(
        tmp_path / "accounts.db",
        clock,
        PasswordHashing(cheap=True),
        idle_s=settings.session_idle_s,
        absolute_s=settings.session_absolute_s,
    )
    accounts.add("root", "admin", PASSWORD)
    accounts.add("sue", "supervisor", PASSWORD, sites=["hq"], teams=["north"])
    accounts.add("ann", "agent", PASSWORD, agent="ann")
    accounts.add("bob", "agent", PASSWORD, agent="bob")
    hub = TelemetryHub()
    writer = None
    if backend == "memory":
        store: Any = MemoryStore()
    else:
        url = f"sqlite://{tmp_path / 'collector.db'}"
        writer, store = SqlWriter(url), CollectorStore(url)
    app = create_app(
        store, settings, hub=hub, accounts=accounts, desks=DESKS, clock=clock, wall_clock=clock
    )
    dash = Dash(app, hub, store, accounts, clock, writer)
    for d in DESKS:
        sim = SimDevice(d.site, d.device, agent=d.agent)
        dash.devices[d.device] = sim
        dash.send("status", sim.status(T0))
    return dash


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: Any) -> str:
    """Every view test runs on the in-memory store and on the collector's SQLite store."""
    return str(request.param)


@pytest.fixture
def dash(tmp_path: Any, backend: str) -> Iterator[Dash]:
    d = make_dash(tmp_path, backend=backend)
    yield d
    d.accounts.close()
