"""iCalendar feeds (RFC 5545) of bookings, per resource and per tenant, that Google
Calendar or Thunderbird subscribe to.

A feed is opened by a secret in its URL (calendar clients send no credentials): a resource's
random ``ical_token``, or for the whole tenant an HMAC of the tenant id under a key derived
from the process secret (rotating the secret rotates the tenant URLs). Events carry the
resource's time zone (``TZID`` with its ``VTIMEZONE``), so a 10:00 departure in Irkutsk is
10:00 there in every client. Pending bookings are ``TENTATIVE``, confirmed ones
``CONFIRMED``; expired, rejected and cancelled ones are left out.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response
from icalendar import Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.auth.deps import Admin
from frontline.bookings import service
from frontline.bookings.repository import BookingRepository, resource_by_ical_token
from frontline.deps import ServicesDep, Session
from frontline.errors import NotFound
from frontline.kit.crypto import constant_time_equals, derive_key
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Booking, BookingStatus, Resource

PAST_DAYS = 90
FUTURE_DAYS = 400
ICS = "text/calendar; charset=utf-8"

router = APIRouter(tags=["bookings"])
api_router = APIRouter(tags=["bookings"])


def tenant_token(secret: str, tenant_id: uuid.UUID) -> str:
    key = derive_key(secret, "frontline.bookings.ical")
    return hmac.new(key, str(tenant_id).encode(), hashlib.sha256).hexdigest()[:40]


def _event(booking: Booking, resource: Resource) -> Event:
    zone = ZoneInfo(resource.timezone)
    event = Event()
    event.add("uid", f"booking-{booking.id}-{booking.tenant_id}@frontline")
    event.add("dtstamp", booking.updated_at)
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", booking.ends_at.astimezone(zone))
    who = booking.customer_name or f"#{booking.id}"
    event.add("summary", f"{resource.name}: {who} ({booking.guests})")
    confirmed = booking.status == BookingStatus.CONFIRMED.value
    event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
    lines = [f"#{booking.id}", f"{booking.total_price} {booking.currency}"]
    lines += [v for v in (booking.customer_phone, booking.customer_email, booking.notes) if v]
    event.add("description", "\n".join(lines))
    return event


async def feed(
    session: AsyncSession, scope: TenantScope, name: str, resources: list[Resource]
) -> bytes:
    now = utcnow()
    by_id = {r.id: r for r in resources}
    rows = await BookingRepository(session, scope).in_period(
        list(by_id), now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS), now
    )
    cal = Calendar()
    cal.add("prodid", "-//Frontline//Bookings//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for booking in rows:
        cal.add_component(_event(booking, by_id[booking.resource_id]))
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data


@router.get("/ical/resources/{token}.ics", include_in_schema=False)
async def resource_feed(token: str, session: Session) -> Response:
    resource = await resource_by_ical_token(session, token)
    if resource is None:
        raise NotFound("calendar not found")
    scope = TenantScope(resource.tenant_id)
    return Response(await feed(session, scope, resource.name, [resource]), media_type=ICS)


@router.get("/ical/tenants/{tenant_id}/{token}.ics", include_in_schema=False)
async def tenant_feed(
    tenant_id: uuid.UUID, token: str, session: Session, services: ServicesDep
) -> Response:
    secret = services.settings.secret_key.get_secret_value()
    if not constant_time_equals(token, tenant_token(secret, tenant_id)):
        raise NotFound("calendar not found")
    scope = TenantScope(tenant_id)
    resources = await service.list_resources(session, scope)
    return Response(await feed(session, scope, "Bookings", resources), media_type=ICS)


@api_router.get("/booking-calendars")
async def calendar_links(
    subject: Admin, session: Session, services: ServicesDep
) -> dict[str, object]:
    """The secret feed paths (relative to the server's base URL) of the tenant and of each
    resource; whoever has one reads that calendar."""
    scope = subject.scope
    secret = services.settings.secret_key.get_secret_value()
    resources = await service.list_resources(session, scope)
    return {
        "tenant": f"/ical/tenants/{scope.tenant_id}/{tenant_token(secret, scope.tenant_id)}.ics",
        "resources": {str(r.id): f"/ical/resources/{r.ical_token}.ics" for r in resources},
    }
