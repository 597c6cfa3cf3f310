"""Login, CSRF, rate limits, session expiry and role enforcement in the API."""

from __future__ import annotations

from tests.dashboard.conftest import PASSWORD, Dash, csrf_of, login


def test_login_sets_a_secure_httponly_strict_cookie(dash: Dash) -> None:
    c = dash.client()
    r = login(c, "sue")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "poise_session=" in cookie
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert c.get("/api/v1/me").json()["role"] == "supervisor"


def test_api_needs_a_session(dash: Dash) -> None:
    c = dash.client()
    assert c.get("/api/v1/floor").status_code == 401
    assert c.get("/floor", follow_redirects=False).headers["location"] == "/login"


def test_wrong_password_is_refused(dash: Dash) -> None:
    c = dash.client()
    r = login(c, "sue", "not the password")
    assert r.status_code == 401
    assert c.get("/api/v1/me").status_code == 401


def test_login_without_csrf_is_refused(dash: Dash) -> None:
    c = dash.client()
    c.get("/login")
    r = c.post("/login", data={"username": "sue", "password": PASSWORD})
    assert r.status_code == 403
    r = c.post("/login", data={"username": "sue", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403


def test_logout_needs_csrf_and_ends_the_session(dash: Dash) -> None:
    c = dash.client("sue")
    assert c.post("/logout", follow_redirects=False).status_code == 403
    assert c.get("/api/v1/me").status_code == 200
    r = c.post("/logout", data={"csrf": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/v1/me").status_code == 401


def test_any_state_change_without_csrf_is_refused(dash: Dash) -> None:
    c = dash.client("root")
    assert c.post("/api/v1/floor").status_code == 403
    assert c.request("DELETE", "/api/v1/fleet").status_code == 403
    # with the token the request reaches routing (and finds no such method)
    assert c.post("/api/v1/floor", headers={"X-CSRF-Token": csrf_of(c)}).status_code == 405


def test_rate_limit_per_account_then_window_passes(dash: Dash) -> None:
    c = dash.client()
    for _ in range(5):
        assert login(c, "sue", "bad password!").status_code == 401
    r = login(c, "sue")  # right password, but locked out
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert login(c, "root").status_code == 303  # other accounts unaffected
    dash.clock.t += 901
    assert login(c, "sue").status_code == 303


def test_rate_limit_per_address(dash: Dash) -> None:
    c = dash.client()
    names = [f"nobody{i}" for i in range(20)]
    for n in names:
        assert login(c, n, "bad password!").status_code == 401
    assert login(c, "root").status_code == 429


def test_session_expires_when_idle(dash: Dash) -> None:
    c = dash.client("sue")
    dash.clock.t += 1000
    assert c.get("/api/v1/me").status_code == 200
    dash.clock.t += 1801
    assert c.get("/api/v1/me").status_code == 401


def test_session_expires_absolutely(dash: Dash) -> None:
    c = dash.client("sue")
    for _ in range(30):
        dash.clock.t += 1500
        c.get("/api/v1/me")
    assert c.get("/api/v1/me").status_code == 401


def test_password_change_ends_sessions(dash: Dash) -> None:
    c = dash.client("sue")
    dash.accounts.passwd("sue", "a new long password")
    assert c.get("/api/v1/me").status_code == 401


def test_agent_sees_only_own_desk(dash: Dash) -> None:
    c = dash.client("ann")
    tiles = c.get("/api/v1/floor").json()["tiles"]
    assert [t["device"] for t in tiles] == ["desk-a1"]
    assert c.get("/api/v1/desks/desk-a1/timeline").status_code == 200
    for path in ("", "/timeline", "/calls", "/timeline.csv", "/calls.csv"):
        assert c.get(f"/api/v1/desks/desk-a2{path}").status_code == 403
    assert c.get("/api/v1/desks/desk-nope").status_code == 403
    assert c.get("/api/v1/fleet").status_code == 403
    assert c.get("/api/v1/teams/north").status_code == 403
    assert c.get("/", follow_redirects=False).headers["location"] == "/desk/desk-a1"


def test_supervisor_sees_their_teams_only(dash: Dash) -> None:
    c = dash.client("sue")
    tiles = c.get("/api/v1/floor").json()["tiles"]
    assert sorted(t["device"] for t in tiles) == ["desk-a1", "desk-a2"]
    assert c.get("/api/v1/desks/desk-b1").status_code == 403
    assert c.get("/api/v1/fleet").status_code == 403
    assert c.get("/fleet").status_code == 403


def test_admin_sees_everything(dash: Dash) -> None:
    c = dash.client("root")
    assert len(c.get("/api/v1/floor").json()["tiles"]) == 4
    assert len(c.get("/api/v1/fleet").json()) == 4
    assert c.get("/api/v1/desks/desk-nope").status_code == 404


def test_pages_set_a_strict_csp(dash: Dash) -> None:
    c = dash.client("root")
    r = c.get("/floor")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
