"""A small client of the dashboard's JSON API (stdlib only): log in as a user, read the floor.

Logs in exactly as a browser does: GET /login for the login CSRF cookie and form token, POST the
form, keep the session cookie. Used by the demo's terminal view and its self-check.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from typing import Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class DashboardClient:
    """Talks to ``base`` (``http://127.0.0.1:PORT``) with one session."""

    def __init__(self, base: str, timeout_s: float = 5.0) -> None:
        self.base = base.rstrip("/")
        self.timeout_s = timeout_s
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def _keep(self, headers: Any) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            c: SimpleCookie = SimpleCookie()
            c.load(raw)
            for k, morsel in c.items():
                self.cookies[k] = morsel.value

    def _request(self, path: str, data: bytes | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base + path, data=data)
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=self.timeout_s) as resp:
                self._keep(resp.headers)
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            self._keep(exc.headers)
            return exc.code, exc.read()

    def login(self, name: str, password: str) -> None:
        """Log in; raise ``RuntimeError`` when the dashboard refuses."""
        status, body = self._request("/login")
        m = re.search(rb'name="csrf"\s+value="([^"]+)"', body)
        if status != 200 or m is None:
            raise RuntimeError(f"login page: HTTP {status}")
        form = urllib.parse.urlencode(
            {"username": name, "password": password, "csrf": m.group(1).decode()}
        ).encode()
        status, _ = self._request("/login", form)
        if status != 303 or "poise_session" not in self.cookies:
            raise RuntimeError(f"login as {name} refused: HTTP {status}")

    def get_json(self, path: str) -> Any:
        status, body = self._request(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        return json.loads(body)

    def floor(self) -> dict[str, Any]:
        """``/api/v1/floor``: one tile per desk."""
        return dict(self.get_json("/api/v1/floor"))
