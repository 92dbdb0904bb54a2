"""The REST API router, mounted at ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from frontline.ai.endpoints import router as ai_status_router
from frontline.aisettings.endpoints import router as ai_settings_router
from frontline.analytics.endpoints import router as analytics_router
from frontline.attachments.endpoints import router as attachments_router
from frontline.audit.endpoints import router as audit_router
from frontline.auth.endpoints import router as auth_router
from frontline.bookings.calendar import api_router as booking_calendars_router
from frontline.bookings.endpoints import router as bookings_router
from frontline.channels.avito.endpoints import router as avito_router
from frontline.channels.endpoints import inbound_router as channels_inbound_router
from frontline.channels.endpoints import router as channels_router
from frontline.channels.telegram.endpoints import inbound_router as telegram_inbound_router
from frontline.channels.telegram.endpoints import router as telegram_router
from frontline.channels.whatsapp.endpoints import router as whatsapp_router
from frontline.contacts.endpoints import router as contacts_router
from frontline.conversations.endpoints import router as conversations_router
from frontline.copilot.endpoints import router as copilot_router
from frontline.customers.endpoints import router as customer_router
from frontline.jobs.endpoints import router as jobs_router
from frontline.knowledge.endpoints import router as knowledge_router
from frontline.mail.endpoints import router as mail_router
from frontline.platform.endpoints import router as platform_router
from frontline.tenants.endpoints import router as tenants_router
from frontline.tickets.endpoints import router as tickets_router


def build_api_router() -> APIRouter:
    """The API's routers. The inbound endpoints (API channel, e-mail and provider webhooks)
    come first: a request is matched against the routes in order (twice: once to pick the
    router, once inside it), and behind the console and admin routes matching was about a
    quarter of the Telegram webhook's profile (see the README's ingest benchmark). Their
    paths match no other route, so the order changes nothing else
    (``tests/test_routing_order.py``)."""
    api = APIRouter(prefix="/api/v1")
    for router in (
        channels_inbound_router,
        telegram_inbound_router,
        whatsapp_router,
        avito_router,
        auth_router,
        tenants_router,
        channels_router,
        contacts_router,
        conversations_router,
        tickets_router,
        jobs_router,
        ai_settings_router,
        ai_status_router,
        knowledge_router,
        attachments_router,
        telegram_router,
        bookings_router,
        analytics_router,
        copilot_router,
        mail_router,
        booking_calendars_router,
        customer_router,
        audit_router,
        platform_router,
    ):
        api.include_router(router)
    return api


# operations anyone may call: no credentials, so no 401/403
_PUBLIC = {("get", "/health"), ("get", "/ready")}


def is_public(method: str, path: str) -> bool:
    return (method, path) in _PUBLIC


def is_rate_limited(method: str, path: str) -> bool:
    """Login is throttled; inbound channels, webhooks and the widget have rate limits."""
    if method == "get":
        return False
    return (
        path == "/api/v1/auth/login"
        or "/widget" in path
        or "/webhooks/" in path
        or (path.startswith("/api/v1/channels/") and path.endswith("/messages"))
    )
