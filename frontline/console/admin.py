"""The owner's side of the console: settings, operations, analytics (admins and owners of
the workspace) and the platform page (the platform superadmin).

Each page is the same server-rendered shell (``admin.html``: the navigation, the page's
heading, an empty ``<main>``) plus one ES module under ``static/console/admin/`` that builds
the page from the REST API - the same ``/api/v1`` endpoints an integration uses, with the
session cookie and the CSRF header. An operator gets the 403 page for every one of these
URLs, and the API answers their calls with 403 too; the inbox shows admins a link here and
operators none. The analytics charts use Chart.js as shipped by the ``chartkick`` package,
served from this server (no CDN).
"""

from __future__ import annotations

import uuid
from importlib import metadata, resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from frontline.ai.base import ProviderKind
from frontline.auth import service as auth
from frontline.auth.deps import SESSION_COOKIE, subject_from_access_token
from frontline.channels import service as channels
from frontline.console import i18n
from frontline.console.pages import (
    HOME_PATH,
    LOGIN_PATH,
    _clear_session,
    _csrf_cookie,
    _redirect,
    _render,
    _Staff,
    _staff,
    choose_locale,
)
from frontline.deps import ServicesDep, Session
from frontline.errors import NotFound, Unauthorized
from frontline.models import Role
from frontline.realtime.visitors import WIDGET_KEY_PREFIX, widget_key

router = APIRouter(include_in_schema=False)

# page -> the i18n key of its title; the order is the navigation's
SETTINGS_PAGES: dict[str, str] = {
    "ai": "admin.nav.ai",
    "knowledge": "admin.nav.knowledge",
    "channels": "admin.nav.channels",
    "team": "admin.nav.team",
    "categories": "admin.nav.categories",
    "resources": "admin.nav.resources",
    "booking-templates": "admin.nav.booking_templates",
    "canned-replies": "admin.nav.canned",
    "api-keys": "admin.nav.api_keys",
    "jobs": "admin.nav.jobs",
    "ai-log": "admin.nav.ai_log",
    "audit": "admin.nav.audit",
}
ANALYTICS_PATH = "/console/analytics"
PLATFORM_PATH = "/console/platform"
CHART_JS = Path(str(resources.files("chartkick"))) / "django/static/chartkick/Chart.bundle.js"
CHART_JS_PATH = "/console/vendor/chart-{version}.js"


def chart_js_url() -> str:
    return CHART_JS_PATH.format(version=metadata.version("chartkick"))


def is_admin(staff: _Staff) -> bool:
    return staff.me.is_superadmin or staff.subject.has_role(Role.ADMIN)


def _forbidden(request: Request) -> Response:
    return _render(
        request,
        "error.html",
        403,
        title_key="forbidden.title",
        text_key="admin.forbidden",
        signed_in=True,
        csrf=_csrf_cookie(request) or "",
    )


def _not_found(request: Request) -> Response:
    return _render(
        request,
        "error.html",
        404,
        title_key="notfound.title",
        text_key="admin.notfound",
        signed_in=True,
        csrf=_csrf_cookie(request) or "",
    )


def _page(
    request: Request, staff: _Staff | None, page: str, title_key: str, *, platform: bool = False
) -> Response:
    locale, _ = choose_locale(request)
    config = {
        "page": page,
        "lang": locale,
        "api": "/api/v1",
        "login_url": LOGIN_PATH,
        "home_url": HOME_PATH,
        "csrf_cookie": "fl_csrf",
        "tenant_id": str(staff.subject.tenant_id) if staff else None,
        "role": staff.me.role if staff else None,
        "user_id": str(staff.me.user_id) if staff and staff.me.user_id else None,
        "public_url": str(request.base_url).rstrip("/"),
        "provider_kinds": [k.value for k in ProviderKind],
        "widget_key_prefix": WIDGET_KEY_PREFIX,
    }
    return _render(
        request,
        "admin.html",
        page=page,
        title_key=title_key,
        settings_pages=SETTINGS_PAGES,
        platform=platform,
        config=config,
        strings=i18n.catalogue(locale),
        me=staff.me if staff else None,
        csrf=_csrf_cookie(request) or "",
        chart_js=chart_js_url() if page == "analytics" else None,
    )


async def _admin(request: Request, session: Session, services: ServicesDep) -> _Staff | Response:
    staff = await _staff(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    return staff if is_admin(staff) else _forbidden(request)


@router.get(ANALYTICS_PATH)
async def analytics_page(request: Request, session: Session, services: ServicesDep) -> Response:
    staff = await _admin(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    return _page(request, staff, "analytics", "admin.nav.analytics")


@router.get("/console/settings")
async def settings_home(request: Request) -> Response:
    return _redirect(request, "/console/settings/ai")


@router.get("/console/settings/{page}")
async def settings_page(
    page: str, request: Request, session: Session, services: ServicesDep
) -> Response:
    staff = await _admin(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    if page not in SETTINGS_PAGES:
        return _not_found(request)
    response = _page(request, staff, page, SETTINGS_PAGES[page])
    if page == "channels":
        # the web channels' widget previews are shown inline: frames of our own origin
        response.headers["Content-Security-Policy"] += "; frame-src 'self'"
    return response


@router.get(PLATFORM_PATH)
async def platform_page(request: Request, session: Session, services: ServicesDep) -> Response:
    """The platform superadmin's tenants (a superadmin needs no workspace of their own)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return _redirect(request, f"{LOGIN_PATH}?next={PLATFORM_PATH}")
    try:
        subject = subject_from_access_token(services, token)
        me = await auth.me(session, subject)
    except Unauthorized:
        response = _redirect(request, LOGIN_PATH)
        _clear_session(request, response)
        return response
    if not me.is_superadmin:
        return _forbidden(request)
    staff = _Staff(subject, me) if subject.tenant_id is not None else None
    return _page(request, staff, "platform", "admin.nav.platform", platform=True)


@router.get(CHART_JS_PATH)
async def chart_js(version: str) -> Response:
    """Chart.js (with its date adapter) from the chartkick package, cached for a year under
    the package's version."""
    if version != metadata.version("chartkick"):
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return FileResponse(
        CHART_JS,
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/console/settings/channels/{channel_id}/preview")
async def widget_preview(
    channel_id: uuid.UUID, request: Request, session: Session, services: ServicesDep
) -> Response:
    """A blank page with this web channel's widget on it (Frontline's own origin is always
    allowed to embed it): what a customer's site shows."""
    staff = await _admin(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    try:
        channel = await channels.get_channel(session, staff.subject.scope, channel_id)
    except NotFound:
        channel = None
    if channel is None or channel.type != "web":
        return _not_found(request)
    response = _render(
        request, "widget_preview.html", key=widget_key(channel.id), name=channel.name
    )
    # shown in a frame on the channels page (our own origin only)
    response.headers["Content-Security-Policy"] = response.headers[
        "Content-Security-Policy"
    ].replace("frame-ancestors 'none'", "frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
