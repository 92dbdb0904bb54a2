"""The operator console's pages (server-rendered, small vanilla JS).

Sessions: ``POST /console/login`` checks the password with the auth service and sets the
``fl_session`` cookie (an access JWT with the console's TTL; HttpOnly, SameSite=Lax, Secure
over https) and the ``fl_csrf`` cookie (random; readable by the console's script, which
echoes it in the ``X-CSRF-Token`` header of every state-changing API call; SameSite=Strict).
The console's script then talks to the ordinary REST API (``/api/v1``) and the console
WebSocket with those cookies; :mod:`frontline.auth.deps` accepts them there.

The pages' own forms (login, logout, workspace) are protected by double submit: the form
carries the ``fl_csrf`` cookie's value in a hidden field. Every page is sent with a strict
Content-Security-Policy (scripts and styles from this origin only, no inline code).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData

from frontline.auth import service as auth
from frontline.auth.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Subject,
    subject_from_access_token,
)
from frontline.auth.schemas import MeOut
from frontline.auth.tokens import AccessClaims
from frontline.console import i18n
from frontline.console.assets import asset_version
from frontline.conversations import service as conversations
from frontline.deps import Services, ServicesDep, Session
from frontline.errors import NotFound, TooManyRequests, Unauthorized
from frontline.kit.crypto import constant_time_equals, new_token
from frontline.kit.params import BIGINT_MAX
from frontline.models import ConversationStatus, Priority, Role

router = APIRouter(include_in_schema=False)

HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
LANG_COOKIE = "fl_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
LOGIN_PATH = "/console/login"
HOME_PATH = "/console"
# where a login may send the browser back to: console pages only (no open redirect)
_NEXT = re.compile(
    r"/console(/conversations/[0-9]{1,19}|/analytics|/platform|/settings/[a-z\-]{1,20})?"
)
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_CSRF_VALUE = re.compile(r"[A-Za-z0-9_\-]{20,100}")
_FAILED_LOGIN_MESSAGES = {
    "this account has no workspace": "login.error.no_workspace",
    "this account has no active workspace": "login.error.suspended",
}


# --- language, security headers, rendering -----------------------------------------------


def choose_locale(request: Request) -> tuple[str, bool]:
    """The UI language and whether it came from ``?lang=`` (then it is remembered)."""
    asked = i18n.normalize(request.query_params.get("lang"))
    if asked:
        return asked, True
    remembered = i18n.normalize(request.cookies.get(LANG_COOKIE))
    if remembered:
        return remembered, False
    preferred = i18n.from_accept_language(request.headers.get("accept-language"))
    return preferred or i18n.DEFAULT_LOCALE, False


def _is_https(request: Request) -> bool:
    return request.url.scheme in ("https", "wss")


def content_security_policy(request: Request) -> str:
    host = request.headers.get("host", "")
    sockets = ""
    if _HOST.fullmatch(host):
        sockets = f" wss://{host}" + ("" if _is_https(request) else f" ws://{host}")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


def _harden(request: Request, response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy(request)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    locale, from_query = choose_locale(request)
    html = TEMPLATES.get_template(template).render(
        lang=locale,
        t=i18n.translator(locale),
        asset_version=asset_version(),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if from_query:
        response.set_cookie(
            LANG_COOKIE,
            locale,
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=_is_https(request),
        )
    _harden(request, response)
    return response


def _redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    _harden(request, response)
    return response


# --- cookies -------------------------------------------------------------------------------


def _csrf_cookie(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and _CSRF_VALUE.fullmatch(value) else None


def _set_csrf(request: Request, response: Response, value: str, max_age: int) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=False,  # the console's script echoes it in the X-CSRF-Token header
        samesite="strict",
        secure=_is_https(request),
    )


def _set_session(request: Request, response: Response, services: Services, token: str) -> None:
    ttl = services.settings.console_session_ttl_seconds
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )
    _set_csrf(request, response, new_token(nbytes=32), ttl)


def _clear_session(request: Request, response: Response) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=_is_https(request), httponly=True)


def _form_value(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _form_csrf_ok(request: Request, form: FormData) -> bool:
    cookie = _csrf_cookie(request)
    submitted = _form_value(form, "csrf_token")
    return bool(cookie and submitted and constant_time_equals(cookie, submitted))


def _safe_next(value: str | None) -> str:
    return value if value and _NEXT.fullmatch(value) else HOME_PATH


# --- login and logout ----------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    status_code: int = 200,
    error_key: str | None = None,
    email: str = "",
    next_url: str = "",
) -> HTMLResponse:
    """The login form; its CSRF cookie is kept if the browser has one, else set."""
    csrf = _csrf_cookie(request) or new_token(nbytes=32)
    locale, _ = choose_locale(request)
    response = _render(
        request,
        "login.html",
        status_code,
        csrf=csrf,
        error=i18n.text(error_key, locale) if error_key else None,
        email=email,
        next=next_url if _NEXT.fullmatch(next_url or "") else "",
    )
    # the form must be submitted within a working day of being shown
    _set_csrf(request, response, csrf, 24 * 3600)
    return response


@router.get(LOGIN_PATH)
async def login_form(request: Request, session: Session, services: ServicesDep) -> Response:
    staff = await _staff(request, session, services)
    if isinstance(staff, _Staff):
        return _redirect(request, _safe_next(request.query_params.get("next")))
    return _login_page(request, next_url=request.query_params.get("next", ""))


@router.post(LOGIN_PATH)
async def login_submit(request: Request, session: Session, services: ServicesDep) -> Response:
    form = await request.form()
    email = _form_value(form, "email").strip()[:320]
    password = _form_value(form, "password")
    next_url = _form_value(form, "next")
    if not _form_csrf_ok(request, form):
        return _login_page(
            request, status_code=403, error_key="login.error.csrf", email=email, next_url=next_url
        )
    if len(email) < 3 or not password or len(password) > 1000:
        return _login_page(
            request,
            status_code=401,
            error_key="login.error.credentials",
            email=email,
            next_url=next_url,
        )
    ttl = services.settings.console_session_ttl_seconds
    address = request.client.host if request.client else None
    try:
        # the same back-off as the API's sign-in (shared counters)
        await services.login_throttle.check(email, address)
    except TooManyRequests as exc:
        page = _login_page(
            request,
            status_code=429,
            error_key="login.error.throttled",
            email=email,
            next_url=next_url,
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    try:
        # the refresh token the service also issues is never handed out; it expires with
        # the session
        pair = await auth.login(session, services.tokens, email, password, None, ttl)
    except Unauthorized as exc:
        await auth.failed_login(session, services.login_throttle, email, address)
        return _login_page(
            request,
            status_code=401,
            error_key=_FAILED_LOGIN_MESSAGES.get(exc.message, "login.error.credentials"),
            email=email,
            next_url=next_url,
        )
    await services.login_throttle.succeeded(email)
    claims = services.tokens.verify(pair.access_token)
    response = _redirect(request, _safe_next(next_url))
    _set_session(request, response, services, services.tokens.issue(claims, ttl_seconds=ttl))
    return response


def _csrf_refused(request: Request, *, signed_in: bool) -> Response:
    """The 403 page of a console form posted without its CSRF token."""
    extra = {"csrf": _csrf_cookie(request) or ""} if signed_in else {}
    return _render(
        request,
        "error.html",
        403,
        title_key="forbidden.title",
        text_key="login.error.csrf",
        signed_in=signed_in,
        **extra,
    )


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    if not _form_csrf_ok(request, form):
        return _csrf_refused(request, signed_in=False)
    response = _redirect(request, LOGIN_PATH)
    _clear_session(request, response)
    return response


# --- the signed-in operator ------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    subject: Subject
    me: MeOut


async def _staff(request: Request, session: Session, services: Services) -> _Staff | Response:
    """The operator the session cookie names; otherwise the response to send instead: a
    redirect to the login page (no session, an expired one, a removed account or
    membership) or the 403 page (signed in, but not an operator of a workspace)."""
    token = request.cookies.get(SESSION_COOKIE)
    next_url = request.url.path if _NEXT.fullmatch(request.url.path) else HOME_PATH
    to_login = f"{LOGIN_PATH}?next={quote(next_url, safe='/')}"
    if not token:
        return _redirect(request, to_login)
    try:
        subject = subject_from_access_token(services, token)
        me = await auth.me(session, subject)
    except Unauthorized:
        response = _redirect(request, to_login)
        _clear_session(request, response)
        return response
    if subject.tenant_id is None or not subject.has_role(Role.OPERATOR):
        return _render(
            request,
            "error.html",
            403,
            title_key="forbidden.title",
            text_key="forbidden.text",
            signed_in=True,
            csrf=_csrf_cookie(request) or "",
        )
    if not me.is_superadmin and subject.tenant_id not in {m.tenant_id for m in me.memberships}:
        response = _redirect(request, to_login)  # removed from the workspace
        _clear_session(request, response)
        return response
    return _Staff(subject, me)


def _console_page(
    request: Request, staff: _Staff, conversation: dict[str, Any] | None
) -> HTMLResponse:
    locale, _ = choose_locale(request)
    me = staff.me
    config = {
        "user_id": str(me.user_id) if me.user_id else None,
        "tenant_id": str(staff.subject.tenant_id),
        "role": me.role,
        "lang": locale,
        "conversation_id": conversation["id"] if conversation else None,
        "api": "/api/v1",
        "ws_path": "/ws/console",
        "login_url": LOGIN_PATH,
        "home_url": HOME_PATH,
        "csrf_cookie": CSRF_COOKIE,
    }
    return _render(
        request,
        "console.html",
        config=config,
        strings=i18n.catalogue(locale),
        me=me,
        is_admin=me.is_superadmin or staff.subject.has_role(Role.ADMIN),
        tenant_id=staff.subject.tenant_id,
        csrf=_csrf_cookie(request) or "",
        conversation=conversation,
        statuses=[s.value for s in ConversationStatus],
        priorities=[p.value for p in Priority],
    )


@router.get(HOME_PATH)
async def inbox(request: Request, session: Session, services: ServicesDep) -> Response:
    staff = await _staff(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    return _console_page(request, staff, None)


@router.get("/console/conversations/{conversation_id}")
async def conversation_page(
    conversation_id: str, request: Request, session: Session, services: ServicesDep
) -> Response:
    staff = await _staff(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    found = None
    if conversation_id.isdigit() and 0 < int(conversation_id) <= BIGINT_MAX:
        try:
            found = await conversations.get(session, staff.subject.scope, int(conversation_id))
        except NotFound:
            found = None
    if found is None:
        return _render(
            request,
            "error.html",
            404,
            title_key="notfound.title",
            text_key="notfound.text",
            signed_in=True,
            csrf=_csrf_cookie(request) or "",
        )
    return _console_page(request, staff, {"id": found.id, "subject": found.subject})


@router.post("/console/workspace")
async def switch_workspace(request: Request, session: Session, services: ServicesDep) -> Response:
    """Continue in another workspace the signed-in user is a member of (a new session)."""
    staff = await _staff(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    form = await request.form()
    if not _form_csrf_ok(request, form):
        return _csrf_refused(request, signed_in=True)
    try:
        wanted = uuid.UUID(_form_value(form, "tenant_id"))
    except ValueError:
        return _redirect(request, HOME_PATH)
    membership = next((m for m in staff.me.memberships if m.tenant_id == wanted), None)
    if membership is None or staff.me.user_id is None:
        return _redirect(request, HOME_PATH)
    claims = AccessClaims(staff.me.user_id, wanted, membership.role, staff.me.is_superadmin)
    ttl = services.settings.console_session_ttl_seconds
    response = _redirect(request, HOME_PATH)
    _set_session(request, response, services, services.tokens.issue(claims, ttl_seconds=ttl))
    return response
