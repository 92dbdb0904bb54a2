"""The demo tenant: created on first run so that ``make run`` works out of the box.

Demo credentials are reproducible: the passwords are derived from the secret key (so
``frontline demo --json`` can print them again) and channel secrets are read back from the
encrypted store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.aisettings import service as aisettings
from frontline.aisettings.schemas import AiSettingsIn
from frontline.bookings import demo as booking_demo
from frontline.channels import service as channels
from frontline.channels.base import ChannelType, InvalidPayload
from frontline.demo_channels import add_env_channels, webhook_urls
from frontline.deps import Services
from frontline.errors import AppError
from frontline.kit.repository import TenantScope
from frontline.knowledge import service as knowledge
from frontline.mail.demo import mailbox_config_from_env
from frontline.models import Channel, Role
from frontline.realtime.visitors import widget_key
from frontline.tenants import service as tenants
from frontline.tickets import service as tickets

log = logging.getLogger(__name__)

DEMO_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_OPERATOR_EMAIL = "operator@example.com"
DEMO_CATEGORIES = ("Бронирование", "Оплата", "Жалоба", "Другое")
def demo_faq() -> list[tuple[str, str]]:
    """The demo's FAQ entries (question, answer), from ``demo_knowledge/faq.json``."""
    raw = (resources.files("frontline") / "demo_knowledge" / "faq.json").read_text("utf-8")
    return [(entry["question"], entry["answer"]) for entry in json.loads(raw)]


DEMO_GREETING = "Здравствуйте! Спросите про туры, цены или бронирование. Hello! Ask about tours."


@dataclass(frozen=True)
class DemoInfo:
    tenant_id: str
    admin_email: str
    admin_password: str
    operator_email: str
    operator_password: str
    api_channel_id: str
    api_channel_secret: str
    email_channel_id: str
    email_webhook_secret: str
    base_url: str
    widget_key: str
    demo_page_url: str
    console_url: str
    # with FRONTLINE_DEMO_TELEGRAM_BOT_TOKEN set
    telegram_channel_id: str | None = None
    telegram_mode: str | None = None
    # messenger channels created from the environment (frontline.demo_channels)
    whatsapp_channel_id: str | None = None
    avito_channel_id: str | None = None
    webhook_urls: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _derived_password(secret_key: str, who: str) -> str:
    digest = hmac.new(
        secret_key.encode(), f"frontline.demo.{who}".encode(), hashlib.sha256
    ).hexdigest()
    return f"demo-{digest[:16]}"


async def ensure_demo(services: Services) -> DemoInfo:
    """Create the demo tenant if missing and return its credentials."""
    secret = services.settings.secret_key.get_secret_value()
    admin_password = _derived_password(secret, "admin")
    operator_password = _derived_password(secret, "operator")
    async with services.db.transaction() as session:
        tenant = await tenants.by_slug(session, DEMO_SLUG)
        if tenant is None:
            tenant = await tenants.create_tenant(
                session, name="Demo Tours · Демо Туры", slug=DEMO_SLUG, locale="ru"
            )
            scope = TenantScope(tenant.id)
            await tenants.add_member(
                session,
                scope,
                email=DEMO_ADMIN_EMAIL,
                password=admin_password,
                role=Role.OWNER,
                name="Demo Admin",
            )
            await tenants.add_member(
                session,
                scope,
                email=DEMO_OPERATOR_EMAIL,
                password=operator_password,
                role=Role.OPERATOR,
                name="Demo Operator",
            )
            api = await _add_channel(services, session, scope, ChannelType.API, "API", {})
            email = await _add_channel(
                services,
                session,
                scope,
                ChannelType.EMAIL,
                "E-mail",
                {
                    "from_address": "support@example.com",
                    "from_name": "Demo Tours",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": 1025,
                },
            )
            for name in DEMO_CATEGORIES:
                await tickets.create_category(session, scope, name, "")
            tenant.settings = {
                "demo": {"api_channel_id": str(api.id), "email_channel_id": str(email.id)}
            }
        scope = TenantScope(tenant.id)
        ids = dict(tenant.settings.get("demo", {}))
        if not ids.get("web_channel_id"):
            web = await _add_channel(
                services,
                session,
                scope,
                ChannelType.WEB,
                "Web chat",
                {
                    "title": "Demo Tours",
                    "greeting": DEMO_GREETING,
                    "allowed_origins": [_origin(services.settings.public_url)],
                },
            )
            ids["web_channel_id"] = str(web.id)
            tenant.settings = {**tenant.settings, "demo": ids}
        with_env = await add_env_channels(session, scope, services.secret_box, ids)
        if with_env != ids:
            ids = with_env
        mailbox = None if ids.get("mailbox_channel_id") else mailbox_config_from_env()
        if mailbox:
            channel = await _add_channel(
                services, session, scope, ChannelType.MAILBOX, "Mailbox", mailbox
            )
            ids["mailbox_channel_id"] = str(channel.id)
            tenant.settings = {**tenant.settings, "demo": ids}
        if not ids.get("knowledge"):
            await _seed_knowledge(session, scope)
            tenant.settings = {**tenant.settings, "demo": {**ids, "knowledge": True}}
        telegram = await _ensure_telegram(services, session, scope)
        if telegram is not None:
            demo = dict(tenant.settings.get("demo", {}))
            if demo.get("telegram_channel_id") != str(telegram.id):
                demo["telegram_channel_id"] = str(telegram.id)
                tenant.settings = {**tenant.settings, "demo": demo}
        if not tenant.settings.get("demo", {}).get("bookings"):
            # bookable tours matching the knowledge base; the AI takes booking requests
            await booking_demo.seed(session, scope)
            await aisettings.update_settings(
                session, scope, services.secret_box, AiSettingsIn(auto_booking=True)
            )
            demo_ids = {**tenant.settings.get("demo", {}), "bookings": True}
            tenant.settings = {**tenant.settings, "demo": demo_ids}
        api_rt = await channels.runtime_for(
            session, scope, services.secret_box, _uuid(ids["api_channel_id"])
        )
        email_rt = await channels.runtime_for(
            session, scope, services.secret_box, _uuid(ids["email_channel_id"])
        )
    return DemoInfo(
        tenant_id=str(tenant.id),
        admin_email=DEMO_ADMIN_EMAIL,
        admin_password=admin_password,
        operator_email=DEMO_OPERATOR_EMAIL,
        operator_password=operator_password,
        api_channel_id=str(api_rt.id),
        api_channel_secret=api_rt.secret,
        email_channel_id=str(email_rt.id),
        email_webhook_secret=email_rt.secret,
        base_url=services.settings.public_url,
        widget_key=widget_key(_uuid(ids["web_channel_id"])),
        demo_page_url=services.settings.public_url.rstrip("/") + "/demo",
        console_url=services.settings.public_url.rstrip("/") + "/console",
        telegram_channel_id=str(telegram.id) if telegram else None,
        telegram_mode=_telegram_mode(services) if telegram else None,
        whatsapp_channel_id=ids.get("whatsapp_channel_id"),
        avito_channel_id=ids.get("avito_channel_id"),
        webhook_urls=webhook_urls(services.settings.public_url, ids),
    )


def _telegram_mode(services: Services) -> str:
    return "webhook" if services.settings.public_url.startswith("https://") else "poll"


async def _ensure_telegram(
    services: Services, session: AsyncSession, scope: TenantScope
) -> Channel | None:
    """The demo's Telegram channel when FRONTLINE_DEMO_TELEGRAM_BOT_TOKEN is set (created
    once; Telegram is told where to post - or to drop its webhook in poll mode). A refusal
    (a wrong token, no network) is logged, not fatal: the rest of the demo works."""
    token = services.settings.demo_telegram_bot_token
    if token is None:
        return None
    for channel in await channels.list_channels(session, scope):
        if channel.type == ChannelType.TELEGRAM.value:
            return channel
    try:
        channel = await _add_channel(
            services,
            session,
            scope,
            ChannelType.TELEGRAM,
            "Telegram",
            {
                "bot_token": token.get_secret_value(),
                "api_base_url": services.settings.demo_telegram_api_base_url,
                "mode": _telegram_mode(services),
            },
        )
    except InvalidPayload as exc:
        log.warning("demo Telegram channel not created: %s %s", exc, exc.fields)
        return None
    try:
        await channels.register_webhook(
            services.secret_box, channel, services.settings.public_url, services.adapter_options
        )
    except AppError as exc:
        log.warning("demo Telegram channel: %s", exc.message)
    return channel


async def _seed_knowledge(session: AsyncSession, scope: TenantScope) -> None:
    """The demo knowledge base (a tour company's prices, booking rules and FAQ, in Russian
    and English): uploaded like any tenant's files, ingested by the worker."""
    folder = resources.files("frontline") / "demo_knowledge"
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".md"):
            await knowledge.upload(session, scope, item.read_bytes(), filename=item.name)
    for question, answer in demo_faq():
        await knowledge.save_faq(session, scope, question, answer)


async def _add_channel(
    services: Services,
    session: AsyncSession,
    scope: TenantScope,
    channel_type: ChannelType,
    name: str,
    config: dict[str, Any],
) -> Channel:
    channel, _secret = await channels.create_channel(
        session, scope, services.secret_box, channel_type=channel_type, name=name, config=config
    )
    return channel


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def demo_widget_key(session: AsyncSession) -> str | None:
    """The demo web channel's widget key, if the demo tenant exists (for the demo page)."""
    tenant = await tenants.by_slug(session, DEMO_SLUG)
    if tenant is None:
        return None
    channel_id = (tenant.settings or {}).get("demo", {}).get("web_channel_id")
    return widget_key(_uuid(channel_id)) if channel_id else None


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def to_json(info: DemoInfo) -> str:
    return json.dumps(info.as_dict(), ensure_ascii=False)
