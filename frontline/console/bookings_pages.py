"""The console's bookings page: the list with filters, a booking's detail (confirm, reject
with a reason, edit) and a calendar per resource (month or week). Server-rendered shell;
``static/console/bookings.js`` fills it from the REST API like the rest of the console."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from frontline.auth.deps import CSRF_COOKIE
from frontline.console import i18n
from frontline.console.admin import is_admin
from frontline.console.pages import LOGIN_PATH, _csrf_cookie, _render, _Staff, _staff, choose_locale
from frontline.deps import ServicesDep, Session
from frontline.models import BookingStatus

router = APIRouter(include_in_schema=False)
BOOKINGS_PATH = "/console/bookings"


@router.get(BOOKINGS_PATH)
async def bookings_page(request: Request, session: Session, services: ServicesDep) -> Response:
    staff = await _staff(request, session, services)
    if not isinstance(staff, _Staff):
        return staff
    locale, _ = choose_locale(request)
    config = {
        "lang": locale,
        "api": "/api/v1",
        "login_url": LOGIN_PATH,
        "csrf_cookie": CSRF_COOKIE,
        "tenant_id": str(staff.subject.tenant_id),
    }
    return _render(
        request,
        "bookings.html",
        config=config,
        strings=i18n.catalogue(locale),
        me=staff.me,
        csrf=_csrf_cookie(request) or "",
        statuses=[s.value for s in BookingStatus],
        admin=is_admin(staff),
    )
