"""Floor tiles, desk timelines, fleet, alerts and CSV from payloads the hub delivers."""

from __future__ import annotations

import csv
import io

from tests.dashboard.conftest import T0, Dash, make_dash


def _tile(c, device: str) -> dict:
    tiles = {t["device"]: t for t in c.get("/api/v1/floor").json()["tiles"]}
    return tiles[device]


def test_tile_follows_calls_cues_and_pace(dash: Dash) -> None:
    c = dash.client("sue")
    sim = dash.devices["desk-a1"]
    t = _tile(c, "desk-a1")
    assert t["online"] and not t["in_call"] and t["cue"] is None
    dash.send("events", sim.start_call(T0))
    dash.send("metrics", sim.metrics(T0 + 10, rate=6.0, baseline=4.5))
    dash.clock.t = T0 + 42
    t = _tile(c, "desk-a1")
    assert t["in_call"] and t["call_s"] == 42.0 and t["pace"] == "fast"
    dash.send("events", sim.cue(T0 + 43, "pace"))
    assert _tile(c, "desk-a1")["cue"] == "pace"
    dash.send("events", sim.cue(T0 + 50, "pace", on=False))
    assert _tile(c, "desk-a1")["cue"] is None
    dash.send("events", sim.end_call(T0 + 60, 60.0))
    assert not _tile(c, "desk-a1")["in_call"]


def test_tile_goes_offline_on_last_will_and_when_stale(dash: Dash) -> None:
    c = dash.client("root")
    sim = dash.devices["desk-a2"]
    dash.send("status", sim.status(T0, online=False))
    assert not _tile(c, "desk-a2")["online"]
    dash.send("status", sim.status(T0 + 1))
    dash.send("health", sim.health(T0 + 2))
    dash.clock.t = T0 + 100
    assert _tile(c, "desk-a2")["online"]
    dash.clock.t = T0 + 2 + 181
    assert not _tile(c, "desk-a2")["online"]


def test_floor_filters_by_site_and_team(dash: Dash) -> None:
    c = dash.client("root")
    f = c.get("/api/v1/floor", params={"site": "hq", "team": "south"}).json()
    assert [t["device"] for t in f["tiles"]] == ["desk-b1"]
    assert f["sites"] == ["branch", "hq"] and "north" in f["teams"]
    assert c.get("/api/v1/floor", params={"site": "a/b"}).status_code == 422


def _feed_desk(dash: Dash, device: str = "desk-a1", n: int = 30) -> None:
    sim = dash.devices[device]
    dash.send("events", sim.start_call(T0))
    for i in range(n):
        dash.send(
            "metrics",
            sim.metrics(
                T0 + 10 * (i + 1),
                rate=4 + i / 10,
                arousal=0.5,
                cues={"stress": 1} if i % 10 == 0 else {},
            ),
        )
        if i % 10 == 0:
            dash.send("events", sim.cue(T0 + 10 * (i + 1), "stress"))
            dash.send("events", sim.cue(T0 + 10 * (i + 1), "pace"))
    dash.clock.t = T0 + 10 * (n + 1)


def test_timeline_and_calls(dash: Dash) -> None:
    _feed_desk(dash)
    c = dash.client("sue")
    tl = c.get("/api/v1/desks/desk-a1/timeline", params={"since": T0 - 60}).json()
    assert len(tl["ts"]) == 30 and tl["sees_arousal"]
    assert tl["series"]["articulation_rate_sps"][0] == 4.0
    assert tl["series"]["baseline_articulation_sps"][0] == 4.5
    assert tl["series"]["arousal"][0] == 0.5
    assert len(tl["cues"]["stress"]) == 3 and len(tl["cues"]["pace"]) == 3
    calls = c.get("/api/v1/desks/desk-a1/calls", params={"since": T0 - 60}).json()
    assert len(calls) == 1
    assert calls[0]["duration_s"] == 300.0 and calls[0]["cues"] == {"stress": 3}
    assert abs(calls[0]["talk_share"] - 6 / 9) < 1e-3
    weeks = c.get(
        "/api/v1/desks/desk-a1/timeline", params={"since": T0 - 28 * 86400, "until": T0 + 400}
    ).json()
    assert weeks["bucket_s"] >= 1600 and len(weeks["ts"]) <= 2


def test_eu_hides_arousal_and_stress_from_supervisors(tmp_path, backend) -> None:
    dash = make_dash(tmp_path, profile="eu", backend=backend)
    _feed_desk(dash)
    sup = dash.client("sue")
    tl = sup.get("/api/v1/desks/desk-a1/timeline", params={"since": T0 - 60}).json()
    assert "arousal" not in tl["series"] and not tl["sees_arousal"]
    assert "stress" not in tl["cues"] and "pace" in tl["cues"]
    calls = sup.get("/api/v1/desks/desk-a1/calls", params={"since": T0 - 60}).json()
    assert "stress" not in calls[0]["cues"]
    assert "arousal" not in sup.get("/api/v1/desks/desk-a1/timeline.csv").text
    dash.send("events", dash.devices["desk-a1"].cue(dash.clock.t, "stress"))
    assert _tile(sup, "desk-a1")["cue"] is None
    assert not any(a["kind"] == "offer_break" for a in sup.get("/api/v1/alerts").json())
    team = sup.get("/api/v1/teams/north").json()
    assert team["agents"] == 2 and not team["shown"] and team["in_call"] is None
    # the agent still sees their own arousal
    own = dash.client("ann").get("/api/v1/desks/desk-a1/timeline", params={"since": T0 - 60}).json()
    assert own["series"]["arousal"][0] == 0.5


def test_default_profile_offers_a_break(dash: Dash) -> None:
    _feed_desk(dash)
    alerts = dash.client("sue").get("/api/v1/alerts").json()
    assert [a["kind"] for a in alerts] == ["offer_break"]
    assert dash.client("sue").get("/api/v1/teams/north").json()["shown"]


def test_eu_team_aggregate_needs_n_agents(tmp_path, backend) -> None:
    dash = make_dash(tmp_path, profile="eu", backend=backend, min_aggregate_agents=2)
    team = dash.client("sue").get("/api/v1/teams/north").json()
    assert team["shown"] and team["desks_online"] == 2


def test_fleet_health_gaps_and_alerts(dash: Dash) -> None:
    sim = dash.devices["desk-b1"]
    dash.send("health", sim.health(T0, dropped=7, temp=81.0))
    sim.seq += 3  # three messages never arrive
    dash.send("health", sim.health(T0 + 650, dropped=7))
    dash.clock.t = T0 + 700
    c = dash.client("root")
    rows = {r["device"]: r for r in c.get("/api/v1/fleet").json()}
    assert rows["desk-b1"]["missing"] == 3
    assert rows["desk-b1"]["unhealthy"] == ["dropping", "gaps"]
    assert rows["desk-b1"]["online"] and rows["desk-b1"]["software"] == "poise 0.1.0"
    assert rows["desk-a1"]["stale"] and "offline" in rows["desk-a1"]["unhealthy"]
    gaps = c.get("/api/v1/fleet/gaps").json()
    assert gaps == [{"device": "desk-b1", "boot": 1, "first": 1, "last": 3}]
    kinds = sorted({a["kind"] for a in c.get("/api/v1/alerts").json()})
    assert kinds == ["offline", "outbox_dropping"]


def test_csv_exports_match_the_views_and_defuse_formulas(dash: Dash) -> None:
    _feed_desk(dash)
    c = dash.client("root")
    r = c.get("/api/v1/floor.csv")
    assert r.headers["content-disposition"] == 'attachment; filename="floor.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4 and {"device", "in_call", "cue", "pace"} <= set(rows[0])
    assert any(row["name"] == "<script>window.pwned=1</script>" for row in rows)
    tl = list(
        csv.DictReader(
            io.StringIO(c.get("/api/v1/desks/desk-a1/timeline.csv", params={"since": T0 - 60}).text)
        )
    )
    assert len(tl) == 30
    assert len(c.get("/api/v1/fleet.csv").text.splitlines()) == 5
    sim = dash.devices["desk-a2"]
    sim.software = "=HYPERLINK(1)"
    sim.boot, sim.seq = sim.boot + 1, 0  # a reboot into new software
    dash.send("status", sim.status(T0))
    assert "'=HYPERLINK(1)" in c.get("/api/v1/fleet.csv").text


def test_unknown_desk_from_telemetry_appears(dash: Dash) -> None:
    from bench.sim_devices import SimDevice

    sim = SimDevice("hq", "desk-new")
    dash.send("status", sim.status(T0))
    assert _tile(dash.client("root"), "desk-new")["name"] == "desk-new"


def test_weeks_read_the_collectors_hourly_rollups(tmp_path) -> None:
    dash = make_dash(tmp_path, backend="sqlite")
    _feed_desk(dash, n=30)
    dash.writer.db.compute_rollups()
    c = dash.client("sue")
    tl = c.get(
        "/api/v1/desks/desk-a1/timeline",
        params={"since": T0 - 28 * 86400, "until": T0 + 3600},
    ).json()
    assert 1 <= len(tl["ts"]) <= 2
    rates = [v for v in tl["series"]["articulation_rate_sps"] if v is not None]
    assert rates and 4.0 <= rates[0] <= 6.9
    assert sum(v or 0 for v in tl["series"]["agent_talk_s"]) == 30 * 6.0
