"""HTML pages: login/logout and the four views (shells whose JS reads /api/v1)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from broker.accounts.roles import Role
from broker.dashboard.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    login_attempt,
    new_login_csrf,
    session_of,
    set_session_cookie,
)
from broker.dashboard.context import Ctx, ctx_of

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)
C = Annotated[Ctx, Depends(ctx_of)]
VIEWS = {"floor": "Floor", "desk": "Desk", "fleet": "Fleet", "alerts": "Alerts"}


def _login_page(request: Request, ctx: Ctx, error: str | None, status: int = 200) -> Response:
    token = new_login_csrf()
    resp = templates.TemplateResponse(
        request, "login.html", {"csrf": token, "error": error}, status_code=status
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
        path="/login",
        max_age=3600,
    )
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: C) -> Response:
    return _login_page(request, ctx, None)


@router.post("/login")
def login(
    request: Request,
    ctx: C,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    address = request.client.host if request.client else "unknown"
    token, result = login_attempt(
        ctx.accounts, ctx.limiter, username.strip().lower(), password, address
    )
    if token is None:
        if result == "bad":
            return _login_page(request, ctx, "Wrong name or password.", 401)
        resp = _login_page(request, ctx, "Too many failed logins; try again later.", 429)
        assert isinstance(result, float)
        resp.headers["Retry-After"] = str(int(result) + 1)
        return resp
    resp = RedirectResponse("/", status_code=303)
    set_session_cookie(resp, token, ctx.settings.cookie_secure, ctx.settings.session_absolute_s)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request, ctx: C) -> Response:
    ctx.accounts.close_session(request.cookies.get(SESSION_COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


def _view(request: Request, view: str, **extra: object) -> Response:
    s = session_of(request)
    if s is None:
        return RedirectResponse("/login", status_code=303)
    ctx: Ctx = request.app.state.ctx
    if view == "fleet" and s.principal.role is not Role.ADMIN:
        return templates.TemplateResponse(
            request,
            "denied.html",
            {"who": s.principal, "csrf": s.csrf, "views": VIEWS, "view": view},
            status_code=403,
        )
    return templates.TemplateResponse(
        request,
        f"{view}.html",
        {
            "who": s.principal,
            "csrf": s.csrf,
            "views": VIEWS,
            "view": view,
            "profile": ctx.policy.profile,
            **extra,
        },
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    s = session_of(request)
    if s is None:
        return RedirectResponse("/login", status_code=303)
    if s.principal.role is Role.AGENT:
        ctx: Ctx = request.app.state.ctx
        mine = ctx.floor.visible(s.principal)
        if mine:
            return RedirectResponse(f"/desk/{mine[0].device}", status_code=303)
    return RedirectResponse("/floor", status_code=303)


@router.get("/floor", response_class=HTMLResponse)
def floor_page(request: Request) -> Response:
    return _view(request, "floor")


@router.get("/desk/{device}", response_class=HTMLResponse)
def desk_page(request: Request, device: str) -> Response:
    return _view(request, "desk", device=device)


@router.get("/fleet", response_class=HTMLResponse)
def fleet_page(request: Request) -> Response:
    return _view(request, "fleet")


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request) -> Response:
    return _view(request, "alerts")
