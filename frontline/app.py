"""The ASGI application: API, operations endpoints and, in the embedded default, the worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from frontline import __version__
from frontline.ai import jobs as ai_reply_jobs
from frontline.ai.chain import BreakerRegistry
from frontline.aisettings import jobs as ai_log_jobs
from frontline.api import include_api, is_public, is_rate_limited
from frontline.attachments import jobs as attachment_jobs
from frontline.attachments.links import LinkSigner
from frontline.attachments.service import AttachmentLimits, AttachmentRuntime
from frontline.attachments.storage.base import StorageConfig, StorageKind
from frontline.attachments.storage.registry import build_store
from frontline.auth.throttle import LoginThrottle
from frontline.auth.tokens import TokenCodec
from frontline.bookings import jobs as booking_jobs
from frontline.bookings.calendar import router as booking_feeds_router
from frontline.channels.avito import jobs as avito_jobs
from frontline.channels.registry import AdapterOptions
from frontline.channels.service import ChannelCache
from frontline.channels.telegram import jobs as telegram_jobs
from frontline.console.admin import router as console_admin_router
from frontline.console.assets import router as assets_router
from frontline.console.bookings_pages import router as console_bookings_router
from frontline.console.pages import router as console_router
from frontline.console.public import router as public_router
from frontline.conversations.limits import InboundLimits
from frontline.copilot import jobs as copilot_jobs
from frontline.deps import Services
from frontline.errors import install_error_handlers
from frontline.jobs import metrics as job_metrics
from frontline.jobs.registry import JobRegistry
from frontline.jobs.worker import Worker
from frontline.kit.asgi import (
    BodySizeLimitMiddleware,
    ErrorLanguageMiddleware,
    RequestContextMiddleware,
)
from frontline.kit.counters import make_counters
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.metrics import registry
from frontline.kit.openapi import install_openapi
from frontline.knowledge import jobs as knowledge_jobs
from frontline.knowledge import rerank
from frontline.knowledge.index import InProcessIndex
from frontline.knowledge.parsing import ParseLimits
from frontline.mail import jobs as mail_jobs
from frontline.mail.runner import MailPoller, build_mail_poller
from frontline.messages import jobs as message_jobs
from frontline.realtime.broker import make_broker
from frontline.realtime.console import router as console_socket_router
from frontline.realtime.presence import make_presence, make_rate_limiter
from frontline.realtime.publish import session_info
from frontline.realtime.visitors import VisitorTokens
from frontline.realtime.widget import router as widget_router
from frontline.realtime.widget_http import router as widget_http_router
from frontline.settings import Settings, get_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "console" / "static"
FAVICON = STATIC_DIR / "favicon.svg"


def attachment_runtime(settings: Settings) -> AttachmentRuntime:
    """The attachment store and limits the settings describe."""
    config = StorageConfig(
        kind=StorageKind(settings.attachments_storage),
        directory=settings.attachments_directory(),
        bucket=settings.attachments_s3_bucket,
        endpoint_url=settings.attachments_s3_endpoint_url,
        region=settings.attachments_s3_region,
        access_key_id=settings.attachments_s3_access_key_id,
        secret_access_key=settings.attachments_s3_secret_access_key,
        prefix=settings.attachments_s3_prefix,
    )
    limits = AttachmentLimits(
        max_bytes=settings.attachments_max_bytes,
        url_ttl_seconds=settings.attachments_url_ttl_seconds,
    )
    return AttachmentRuntime(build_store(config), limits, LinkSigner(settings.secret_keys()))


def build_services(settings: Settings) -> Services:
    """Everything a process shares: database, crypto, broker, job kinds."""
    broker = make_broker(settings.redis_url, settings.redis_options())
    attachments = attachment_runtime(settings)
    db = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        echo=settings.database_echo,
        session_info={**session_info(broker), **attachments.session_info()},
    )
    box = SecretBox(settings.secret_keys())
    options = AdapterOptions(
        outbound_timeout_seconds=settings.outbound_timeout_seconds,
        webhook_tolerance_seconds=settings.webhook_tolerance_seconds,
    )
    jobs = JobRegistry()
    breakers = BreakerRegistry()
    message_jobs.register(jobs, box, options)
    telegram_jobs.register(jobs, box, options, settings.public_url)
    attachment_jobs.register(jobs, box, options, attachments)
    ai_log_jobs.register(jobs)
    knowledge_index = InProcessIndex()
    rerank.set_enabled(settings.knowledge_semantic_rerank)
    ai_reply_jobs.register(
        jobs, box, breakers, broker, knowledge_index, settings.ai_provider_timeout_seconds
    )
    knowledge_jobs.register(jobs, ParseLimits(max_bytes=settings.knowledge_max_file_bytes), box)
    booking_jobs.register(jobs)
    copilot_jobs.register(jobs, box, breakers, settings.ai_provider_timeout_seconds)
    avito_jobs.register(jobs, box, options, settings.public_url)
    rate_limiter = make_rate_limiter(settings.redis_url, settings.redis_options())
    inbound_limits = InboundLimits(
        rate_limiter,
        contact_per_minute=settings.inbound_contact_messages_per_minute,
        tenant_per_minute=settings.inbound_tenant_messages_per_minute,
    )
    mail_jobs.register(jobs, box, settings.mail_poll_batch, inbound_limits)
    return Services(
        settings=settings,
        db=db,
        secret_box=box,
        tokens=TokenCodec(
            settings.secret_key.get_secret_value(), settings.access_token_ttl_seconds
        ),
        broker=broker,
        jobs=jobs,
        adapter_options=options,
        channel_cache=ChannelCache(settings.channel_cache_seconds),
        knowledge=knowledge_index,
        breakers=breakers,
        presence=make_presence(settings.redis_url, settings.redis_options()),
        rate_limiter=rate_limiter,
        inbound_limits=inbound_limits,
        visitor_tokens=VisitorTokens(settings.secret_keys()),
        attachments=attachments,
        login_throttle=LoginThrottle(make_counters(settings.redis_url, settings.redis_options())),
    )


def build_worker(services: Services) -> Worker:
    s = services.settings
    return Worker(
        services.db,
        services.jobs,
        concurrency=s.worker_concurrency,
        poll_seconds=s.worker_poll_seconds,
        lease_seconds=s.job_lease_seconds,
        backoff_base=s.job_backoff_base_seconds,
        backoff_max=s.job_backoff_max_seconds,
        services=services,
    )


def mail_poller_for(services: Services) -> MailPoller | None:
    """The IMAP poller of mailbox channels, run beside the worker (None when disabled)."""
    s = services.settings
    return build_mail_poller(
        services.db,
        services.secret_box,
        s.mail_poll_seconds,
        s.mail_poll_batch,
        services.inbound_limits,
    )


_LANDING = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<title>Frontline</title></head><body style="font-family:system-ui;max-width:40rem;margin:3rem auto">
<h1>Frontline</h1><p>AI-first customer support. Поддержка клиентов с ИИ на первой линии.</p>
<ul><li><a href="/demo">Demo page with the chat widget · Демо-страница с чатом</a></li>
<li><a href="/console">Console (operators, owners) · Консоль</a></li>
<li><a href="/docs">API documentation (OpenAPI)</a></li>
<li><a href="/health">/health</a> · <a href="/ready">/ready</a> ·
<a href="/metrics">/metrics</a></li></ul>
</body></html>"""


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = build_services(settings)
    in_process_worker = settings.run_worker_in_process if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker_task: asyncio.Task[None] | None = None
        worker: Worker | None = None
        if in_process_worker:
            worker = build_worker(services)
            app.state.worker = worker
            worker_task = asyncio.create_task(worker.run(), name="frontline-worker")
        mail_poller = mail_poller_for(services) if in_process_worker else None
        mail_task = (
            asyncio.create_task(mail_poller.run(), name="frontline-mail") if mail_poller else None
        )
        try:
            yield
        finally:
            if mail_poller and mail_task:
                mail_poller.stop()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(mail_task, timeout=30)
            if worker and worker_task:
                worker.stop()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(worker_task, timeout=30)
            await services.aclose()

    # /docs and /redoc with Swagger UI and ReDoc served from the fastapi-offline package
    # (no CDN: the documentation works offline)
    app = FastAPIOffline(
        favicon_url="/favicon.ico",
        title="Frontline",
        version=__version__,
        description="AI-first, multi-tenant customer support platform.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.worker = None
    install_error_handlers(app)
    include_api(app)
    app.include_router(console_router)
    app.include_router(booking_feeds_router)
    app.include_router(console_bookings_router)
    app.include_router(console_admin_router)
    app.include_router(public_router)
    app.include_router(widget_router)
    app.include_router(widget_http_router)
    app.include_router(console_socket_router)
    app.include_router(assets_router)  # before the /static mount: it owns /static/v/...
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def landing() -> HTMLResponse:
        return HTMLResponse(_LANDING)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(
            FAVICON.read_bytes(),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    async def ready() -> JSONResponse:
        if await services.db.ping():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        try:
            await job_metrics.sample(services.db, services.jobs.names())
        except Exception:
            log.warning("could not sample job counts", exc_info=True)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # every error status each operation can answer, with the one error body
    install_openapi(app, public=is_public, rate_limited=is_rate_limited)

    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # uploads: a little over the file limit for the multipart envelope
        overrides={
            "/api/v1/knowledge/documents": settings.knowledge_max_file_bytes + 64 * 1024,
            # inbound JSON with base64 files (API channel, e-mail webhook); widget uploads
            "/api/v1/channels/": settings.attachments_max_body_bytes,
            "/api/v1/webhooks/email/": settings.attachments_max_body_bytes,
            "/api/v1/widget/attachments": settings.attachments_max_bytes + 64 * 1024,
        },
    )
    # error messages in the client's language (wraps the body-size refusal too)
    app.add_middleware(ErrorLanguageMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app
