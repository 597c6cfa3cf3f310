"""The dashboard in a real headless Chromium (Playwright) against a live uvicorn.

Screenshots of every view go to the test's output dir; with POISE_SCREENSHOTS_TO_DOCS=1 they are
also copied to docs/img/ (``make dashboard-screenshots``) for the README.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.sim_devices import SimDevice
from broker.dashboard.model import Desk
from tests.dashboard.conftest import DESKS, PASSWORD, Dash, make_dash
from tests.dashboard.live import LiveServer, launch_chromium

playwright_sync = pytest.importorskip("playwright.sync_api")
REPO = Path(__file__).resolve().parents[2]
EXTRA = [
    Desk(f"desk-f{i:02d}", "hq", f"Floor {i}", "north" if i % 2 else "south", f"ag{i}")
    for i in range(1, 17)
]


def _populate(dash: Dash, now: float) -> None:
    """A small floor: calls, cues, fast/slow pace, an offline desk; a shift of windows."""
    for d in EXTRA:
        dash.app.state.ctx.floor.set_desk(d)
        dash.devices[d.device] = sim = SimDevice(d.site, d.device, agent=d.agent)
        dash.send("status", sim.status(now - 5))
    for i, d in enumerate(EXTRA):
        sim = dash.devices[d.device]
        if i % 3 != 2:
            dash.send("events", sim.start_call(now - 30 - 40 * i))
        dash.send(
            "metrics",
            sim.metrics(now - 2, rate=4.5 * (1.3 if i % 4 == 0 else 0.8 if i % 4 == 1 else 1.0)),
        )
        dash.send("health", sim.health(now - 1, dropped=5 if i == 3 else 0))
        if i % 5 == 0:
            dash.send(
                "events", sim.cue(now - 1, ["pace", "overtalk", "monologue", "stress"][i % 4])
            )
    for ago in (300, 200, 100):  # sustained stress at one desk -> "offer a break"
        dash.send("events", dash.devices["desk-b1"].cue(now - ago, "stress"))
    off = dash.devices["desk-f16"]
    dash.send("status", off.status(now - 3, online=False))
    sim = dash.devices["desk-a1"]
    dash.send("events", sim.start_call(now - 4 * 3600))
    for k in range(4 * 360):
        ts = now - 4 * 3600 + 10 * k
        if k % 90 == 0 and k:
            dash.send("events", sim.end_call(ts - 5, 900.0))
            dash.send("events", sim.start_call(ts - 4))
        wobble = ((k * 37) % 17) / 17
        dash.send(
            "metrics",
            sim.metrics(
                ts,
                rate=4.0 + wobble + k / 1440,
                baseline=4.4,
                arousal=0.3 + wobble / 3,
                pitch=2 + wobble,
                cues={"pace": 1} if k % 50 == 0 else {},
            ),
        )
        if k % 50 == 0:
            dash.send("events", sim.cue(ts, "pace"))
        if k % 120 == 0:
            dash.send("events", sim.cue(ts, "stress"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _shot(page: Any, shots: Path, name: str) -> None:
    path = shots / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    if os.environ.get("POISE_SCREENSHOTS_TO_DOCS") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, REPO / "docs" / "img" / path.name)


def _serve(tmp_path: Path, backend: str, profile: str = "default") -> tuple[Dash, LiveServer]:
    dash = make_dash(tmp_path, profile=profile, backend=backend)
    ctx = dash.app.state.ctx
    ctx.wall_clock = time.time  # the browser lives in real time
    dash.clock.t = time.time()
    for d in DESKS:
        sim = dash.devices[d.device]
        dash.send("status", sim.status(time.time()))
    _populate(dash, time.time())
    return dash, LiveServer(dash.app).start()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dash, LiveServer]]:
    dash, server = _serve(tmp_path_factory.mktemp("live"), "sqlite")
    yield dash, server
    server.stop()


def _login(browser: Any, url: str, name: str) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    return page


def test_login_and_floor(browser: Any, live: tuple[Dash, LiveServer], shots: Path) -> None:
    _, server = live
    page = _login(browser, server.url, "root")
    assert page.url.endswith("/floor")
    page.wait_for_selector("body[data-loaded]")
    page.wait_for_selector("#live[data-state=live]")
    assert page.locator(".tile").count() == len(DESKS) + len(EXTRA)
    assert page.locator(".tile[data-state=offline]").count() >= 1
    assert page.locator(".tile[data-state=cue]").count() >= 1
    assert page.locator(".tile[data-incall=true]").count() >= 1
    # keyboard: the tiles are links reachable with Tab and movable with arrows
    first = page.locator(".tile").first
    first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.device") == page.locator(".tile").nth(
        1
    ).get_attribute("data-device")
    _shot(page, shots, "floor")
    page.context.close()


def test_wrong_password_stays_on_login(browser: Any, live: tuple[Dash, LiveServer]) -> None:
    _, server = live
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", "root")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "Wrong name or password."
    ctx.close()


def test_tile_changes_within_a_second_of_a_cue(browser: Any, live: tuple[Dash, LiveServer]) -> None:
    dash, server = live
    page = _login(browser, server.url, "sue")
    page.wait_for_selector("#live[data-state=live]")
    tile = page.locator('.tile[data-device="desk-a2"]')
    assert tile.get_attribute("data-cue") == ""
    sim = dash.devices["desk-a2"]
    t0 = time.monotonic()
    dash.send("events", sim.cue(time.time(), "overtalk"))
    page.wait_for_selector('.tile[data-device="desk-a2"][data-cue="overtalk"]', timeout=1000)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0
    assert "overtalk" in tile.inner_text()
    dash.send("events", sim.cue(time.time(), "overtalk", on=False))
    page.wait_for_selector('.tile[data-device="desk-a2"][data-cue=""]', timeout=1000)
    page.context.close()


def test_desk_charts_draw_data(browser: Any, live: tuple[Dash, LiveServer], shots: Path) -> None:
    _, server = live
    page = _login(browser, server.url, "sue")
    page.goto(f"{server.url}/desk/desk-a1")
    page.wait_for_selector("body[data-loaded]")
    assert int(page.get_attribute("#c-rate", "data-points") or 0) > 100
    inked = page.evaluate("""() => [...document.querySelectorAll('.chart canvas')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })""")
    assert len(inked) == 6 and all(n > 500 for n in inked)
    assert page.is_visible("#f-arousal")
    assert page.locator("#calls tbody tr").count() >= 3
    _shot(page, shots, "desk")
    page.click("button[data-span='604800']")
    page.wait_for_selector("button[data-span='604800'][aria-pressed=true]")
    page.context.close()


def test_agent_cannot_open_another_agents_page(browser: Any, live: tuple[Dash, LiveServer]) -> None:
    _, server = live
    page = _login(browser, server.url, "ann")
    assert page.url.endswith("/desk/desk-a1")
    page.wait_for_selector("body[data-loaded]")
    assert page.locator(".chart canvas").count() == 6
    page.goto(f"{server.url}/desk/desk-a2")
    page.wait_for_selector("body[data-loaded]")
    assert page.locator("#error").inner_text() == "You may not see this desk."
    assert page.locator(".chart canvas").count() == 0
    status = page.evaluate("fetch('/api/v1/desks/desk-a2/timeline').then(r => r.status)")
    assert status == 403
    page.goto(f"{server.url}/floor")
    page.wait_for_selector("body[data-loaded]")
    assert page.locator(".tile").count() == 1
    page.context.close()


def test_eu_hides_arousal_from_a_supervisor(browser: Any, tmp_path: Path) -> None:
    _, server = _serve(tmp_path, "memory", profile="eu")
    try:
        page = _login(browser, server.url, "sue")
        page.goto(f"{server.url}/desk/desk-a1")
        page.wait_for_selector("body[data-loaded]")
        assert not page.is_visible("#f-arousal")
        assert page.locator("#c-arousal canvas").count() == 0
        assert "stress" not in page.locator("#calls").inner_text()
        page.context.close()
        own = _login(browser, server.url, "ann")
        own.wait_for_selector("body[data-loaded]")
        assert own.is_visible("#f-arousal")
        own.context.close()
    finally:
        server.stop()


def test_script_in_a_device_name_stays_inert(
    browser: Any, live: tuple[Dash, LiveServer], shots: Path
) -> None:
    dash, server = live
    sim = dash.devices["desk-x1"]
    sim.software = "<img src=x onerror=window.pwned=2>"
    sim.boot, sim.seq = sim.boot + 1, 0  # a reboot into new software
    dash.send("status", sim.status(time.time()))
    page = _login(browser, server.url, "root")
    page.wait_for_selector("body[data-loaded]")
    tile = page.locator('.tile[data-device="desk-x1"] .name')
    assert tile.inner_text() == "<script>window.pwned=1</script>"
    page.goto(f"{server.url}/fleet")
    page.wait_for_selector("body[data-loaded]")
    assert "<img src=x onerror=window.pwned=2>" in page.locator("#fleet").inner_text()
    page.goto(f"{server.url}/desk/desk-x1")
    page.wait_for_selector("body[data-loaded]")
    assert page.locator("#title").inner_text() == "<script>window.pwned=1</script>"
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("script:not([src])").count() == 0
    page.context.close()


def test_csv_export_downloads(browser: Any, live: tuple[Dash, LiveServer], tmp_path: Path) -> None:
    _, server = live
    page = _login(browser, server.url, "root")
    page.wait_for_selector("body[data-loaded]")
    with page.expect_download() as info:
        page.click("#csv")
    path = tmp_path / "floor.csv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("device,name,site,team")
    assert len(lines) == 1 + len(DESKS) + len(EXTRA)
    page.goto(f"{server.url}/fleet")
    page.wait_for_selector("body[data-loaded]")
    with page.expect_download() as info:
        page.click("text=Export CSV")
    assert info.value.suggested_filename == "fleet.csv"
    page.context.close()


def test_fleet_and_alerts_views(browser: Any, live: tuple[Dash, LiveServer], shots: Path) -> None:
    _, server = live
    page = _login(browser, server.url, "root")
    page.goto(f"{server.url}/fleet")
    page.wait_for_selector("body[data-loaded]")
    assert page.locator("#fleet tbody tr").count() == len(DESKS) + len(EXTRA)
    assert page.locator("#fleet tbody tr.bad").count() >= 2
    page.click("th[data-key=dropped] button")
    page.click("th[data-key=dropped] button")
    assert page.get_attribute("th[data-key=dropped]", "aria-sort") == "descending"
    assert page.locator("#fleet tbody tr").first.get_attribute("data-device") == "desk-f04"
    _shot(page, shots, "fleet")
    page.goto(f"{server.url}/alerts")
    page.wait_for_selector("body[data-loaded]")
    kinds = {
        page.locator(".alert").nth(i).get_attribute("data-kind")
        for i in range(page.locator(".alert").count())
    }
    assert {"outbox_dropping", "offer_break"} <= kinds
    _shot(page, shots, "alerts")
    page.context.close()


def test_supervisor_cannot_open_fleet(browser: Any, live: tuple[Dash, LiveServer]) -> None:
    _, server = live
    page = _login(browser, server.url, "sue")
    resp = page.goto(f"{server.url}/fleet")
    assert resp is not None and resp.status == 403
    page.context.close()
