"""Login, logout, sessions and CSRF for the dashboard.

* The session cookie (``poise_session``) is HttpOnly, SameSite=Strict and Secure (configurable
  for plain-http development); its token is random and stored only as a hash.
* CSRF: every request that is not GET/HEAD/OPTIONS must carry the session's CSRF token in the
  ``X-CSRF-Token`` header or a ``csrf`` form field; the login form uses a double-submit cookie
  (``poise_login_csrf``). Checked in one middleware, so no route can forget it.
* Failed logins are rate limited per account and per client address (429 with Retry-After).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.accounts.ratelimit import LoginRateLimiter
from broker.accounts.roles import Principal
from broker.accounts.store import AccountStore, Session

log = logging.getLogger(__name__)

SESSION_COOKIE = "poise_session"
LOGIN_CSRF_COOKIE = "poise_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_of(request: Request) -> Session | None:
    return getattr(request.state, "session", None)


def require_principal(request: Request) -> Principal:
    """FastAPI dependency: the logged-in principal, else 401."""
    s = session_of(request)
    if s is None:
        raise HTTPException(status_code=401, detail="log in first")
    return s.principal


class SessionCsrfMiddleware:
    """Attach the session to ``request.state`` and refuse state changes without CSRF proof."""

    def __init__(self, app: ASGIApp, accounts: AccountStore) -> None:
        self.app = app
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/") and scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)  # assets need no session lookup
            return
        request = Request(scope)
        token = request.cookies.get(SESSION_COOKIE)
        session = self.accounts.session(token) if token else None
        scope.setdefault("state", {})["session"] = session
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if not _csrf_ok(request, session, body):
            await Response("CSRF check failed", status_code=403, media_type="text/plain")(
                scope, _replay(b""), send
            )
            return
        await self.app(scope, _replay(body), send)


async def _read_body(receive: Receive, limit: int = 64 * 1024) -> bytes:
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            break
        chunks.append(chunk)
        if not msg.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _form_field(request: Request, body: bytes, name: str) -> str | None:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    try:
        values = parse_qs(body.decode("utf-8"), max_num_fields=20).get(name)
    except (UnicodeDecodeError, ValueError):
        return None
    return values[0] if values else None


def _csrf_ok(request: Request, session: Session | None, body: bytes) -> bool:
    sent = request.headers.get("x-csrf-token") or _form_field(request, body, "csrf")
    if not sent:
        return False
    if request.url.path == "/login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        expected = session.csrf if session else None
    return expected is not None and hmac.compare_digest(sent.encode(), expected.encode())


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_session_cookie(resp: Response, token: str, secure: bool, max_age: float) -> None:
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(max_age),
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )


def login_attempt(
    accounts: AccountStore, limiter: LoginRateLimiter, name: str, password: str, address: str
) -> tuple[str | None, Session | str | float]:
    """(token, session) on success; (None, reason) where reason is 'bad' or seconds to wait."""
    wait = limiter.retry_after(name, address)
    if wait > 0:
        return None, wait
    user = accounts.check(name, password)
    if user is None:
        limiter.failed(name, address)
        log.info("failed login for %r from %s", name[:64], address)
        return None, "bad"
    limiter.succeeded(name)
    return accounts.open_session(user.name)
