"""The REST API router, mounted at ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

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

API_PREFIX = "/api/v1"

# the inbound endpoints: API channel, e-mail, Telegram, WhatsApp and Avito webhooks
INBOUND_ROUTERS = (
    channels_inbound_router,
    telegram_inbound_router,
    whatsapp_router,
    avito_router,
)


def include_api(app: FastAPI) -> None:
    """Mount the API at ``/api/v1``, the inbound endpoints first.

    A request is matched against the routes in order; behind the console and admin routes
    matching was about a quarter of the Telegram webhook's profile (see the README's ingest
    benchmark). The installed FastAPI also keeps an included router as one nested route
    whose matching - twice per request, once to pick it and once inside it - first walks
    every route below it to check that none was added since (``_get_routes_version``): for
    the whole API, some 250 routes, four times per request. So each inbound router is
    included into the app on its own, ahead of the API router: a webhook is matched
    against its own router's one or two routes. Their paths match no other route, so the
    order changes nothing else (``tests/test_routing_order.py``)."""
    for router in INBOUND_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(build_api_router())


def build_api_router() -> APIRouter:
    """The API's routers but the inbound ones (see :func:`include_api`)."""
    api = APIRouter(prefix=API_PREFIX)
    for router in (
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
    """Login is throttled; inbound channels, webhooks, the widget and the customer API's
    messages have rate limits."""
    if method == "get":
        return False
    return (
        path == "/api/v1/auth/login"
        or "/widget" in path
        or "/webhooks/" in path
        or (path.startswith("/api/v1/channels/") and path.endswith("/messages"))
        or path in CUSTOMER_SENDS
    )


# the customer API's operations that send a message (the inbound rate limits refuse a flood)
CUSTOMER_SENDS = frozenset(
    {
        "/api/v1/customer/conversations",
        "/api/v1/customer/conversations/{conversation_id}/messages",
    }
)
