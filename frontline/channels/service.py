"""Channel management: create, configure, rotate secrets; decrypt for adapters."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.channels.base import ChannelAdapter, ChannelConfig, ChannelError, ChannelType
from frontline.channels.registry import (
    AdapterOptions,
    build_adapter,
    build_validated,
    validate_config,
)
from frontline.channels.repository import (
    ChannelRepository,
    ChannelStateRepository,
    channel_for_webhook,
    channels_of_type,
)
from frontline.channels.schemas import ChannelOut
from frontline.errors import NotFound, Unprocessable
from frontline.jobs import queue
from frontline.kit.crypto import SecretBox, new_token
from frontline.kit.db import after_commit
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Channel


@dataclass(frozen=True)
class ChannelRuntime:
    """A channel's decrypted config and secret, for building its adapter."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    type: ChannelType
    name: str
    is_active: bool
    config: dict[str, Any]
    secret: str

    @functools.cached_property
    def parsed_config(self) -> ChannelConfig:
        """``config`` validated, once per runtime: a webhook's runtime comes from the
        channel cache and serves many requests, and validating the config again for each
        (URLs, token patterns) was a few per cent of the Telegram webhook's CPU."""
        return validate_config(self.type, self.config)


def adapter_for(runtime: ChannelRuntime, options: AdapterOptions) -> ChannelAdapter:
    """The runtime's adapter, built from its config validated once (see above)."""
    return build_validated(runtime.type, runtime.parsed_config, runtime.secret, options)


def _storable(config: ChannelConfig) -> dict[str, Any]:
    """The config as JSON-able data with secret values revealed (it is encrypted next)."""
    data = config.model_dump(mode="python")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, SecretStr):
            out[key] = value.get_secret_value()
        elif value is None or isinstance(value, (str, int, float, bool, list, dict)):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def masked_config(channel_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """A channel's config as JSON with its secret fields masked."""
    parsed = validate_config(channel_type, config)
    return dict(parsed.model_dump(mode="json"))


_masked = masked_config


def to_out(channel: Channel, box: SecretBox) -> ChannelOut:
    config = json.loads(box.decrypt(channel.config_encrypted))
    return ChannelOut(
        id=channel.id,
        type=ChannelType(channel.type),
        name=channel.name,
        is_active=channel.is_active,
        config=_masked(channel.type, config),
        created_at=channel.created_at,
    )


def runtime(channel: Channel, box: SecretBox) -> ChannelRuntime:
    return decrypted_runtime(
        box,
        channel_id=channel.id,
        tenant_id=channel.tenant_id,
        channel_type=channel.type,
        name=channel.name,
        is_active=channel.is_active,
        config_encrypted=channel.config_encrypted,
        secret_encrypted=channel.secret_encrypted,
    )


def decrypted_runtime(
    box: SecretBox,
    *,
    channel_id: uuid.UUID,
    tenant_id: uuid.UUID,
    channel_type: str,
    name: str,
    is_active: bool,
    config_encrypted: str,
    secret_encrypted: str,
) -> ChannelRuntime:
    """A channel's runtime from its stored columns (read by whoever needs it, e.g. together
    with the message a delivery sends)."""
    return ChannelRuntime(
        id=channel_id,
        tenant_id=tenant_id,
        type=ChannelType(channel_type),
        name=name,
        is_active=is_active,
        config=json.loads(box.decrypt(config_encrypted)),
        secret=box.decrypt(secret_encrypted),
    )


async def create_channel(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    *,
    channel_type: ChannelType,
    name: str,
    config: dict[str, Any],
    secret: str | None = None,
) -> tuple[Channel, str]:
    """Create a channel; returns it with its secret (shown to the admin once)."""
    parsed = validate_config(channel_type, config)
    secret = secret or new_token("flc_", 32)
    channel = ChannelRepository(session, scope).add(
        Channel(
            id=uuid.uuid4(),
            type=channel_type.value,
            name=name,
            config_encrypted=box.encrypt(json.dumps(_storable(parsed))),
            secret_encrypted=box.encrypt(secret),
            is_active=True,
            pushes_replies=parsed.pushes_replies(),
        )
    )
    await session.flush()
    await _after_secret_set(session, channel, secret)
    return channel, secret


async def _after_secret_set(
    session: AsyncSession, channel: Channel, secret: str, config_changed: bool = False
) -> None:
    """An Avito channel's webhook URL carries its secret, and its credentials name the
    account: (re)subscribe it, as a durable job in this transaction (Avito is called after
    the commit, retried if it fails)."""
    if channel.type != ChannelType.AVITO.value:
        return
    material = secret + (channel.config_encrypted if config_changed else "")
    digest = hashlib.sha256(material.encode()).hexdigest()[:16]
    await queue.insert(
        session,
        events.JOB_AVITO_SUBSCRIBE,
        {"channel_id": str(channel.id)},
        tenant_id=channel.tenant_id,
        idempotency_key=f"avito-subscribe:{channel.id}:{digest}",
        run_locally=True,
    )


async def get_channel(session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID) -> Channel:
    channel = await ChannelRepository(session, scope).get(channel_id)
    if channel is None:
        raise NotFound("channel not found")
    return channel


async def list_channels(session: AsyncSession, scope: TenantScope) -> list[Channel]:
    return await ChannelRepository(session, scope).list()


async def update_channel(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    channel_id: uuid.UUID,
    *,
    name: str | None,
    config: dict[str, Any] | None,
    is_active: bool | None,
    cache: ChannelCache | None = None,
) -> Channel:
    """Patch a channel. Config keys merge into the stored config; secret fields left out
    keep their stored value (the API never returns them, so clients cannot echo them)."""
    channel = await get_channel(session, scope, channel_id)
    if name is not None:
        channel.name = name
    if is_active is False and channel.is_active:
        await _on_deactivated(session, scope, channel)
    if is_active is not None:
        channel.is_active = is_active
    if config is not None:
        current = json.loads(box.decrypt(channel.config_encrypted))
        merged = {**current, **{k: v for k, v in config.items() if v != "**********"}}
        parsed = validate_config(channel.type, merged)
        channel.config_encrypted = box.encrypt(json.dumps(_storable(parsed)))
        channel.pushes_replies = parsed.pushes_replies()
        secret = box.decrypt(channel.secret_encrypted)
        await _after_secret_set(session, channel, secret, config_changed=True)
    await session.flush()
    _forget_after_commit(session, cache, channel.id)
    return channel


async def _on_deactivated(session: AsyncSession, scope: TenantScope, channel: Channel) -> None:
    """A Telegram channel switched off stops its bot's webhook at Telegram: a durable job
    (``deleteWebhook``) enqueued with the change - the change never waits on Telegram, and
    a failure is the job's (retried, then logged), not the admin's request's."""
    if channel.type != ChannelType.TELEGRAM.value:
        return
    await queue.insert(
        session,
        events.JOB_TELEGRAM_DELETE_WEBHOOK,
        {"channel_id": str(channel.id)},
        tenant_id=scope.tenant_id,
        idempotency_key=f"telegram.delete_webhook:{channel.id}:{time.time_ns()}",
    )


def _forget_after_commit(
    session: AsyncSession, cache: ChannelCache | None, channel_id: uuid.UUID
) -> None:
    if cache is None:
        return

    async def _drop() -> None:
        cache.drop(channel_id)

    after_commit(session, _drop)


async def rotate_secret(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    channel_id: uuid.UUID,
    cache: ChannelCache | None = None,
) -> tuple[Channel, str]:
    channel = await get_channel(session, scope, channel_id)
    secret = new_token("flc_", 32)
    channel.secret_encrypted = box.encrypt(secret)
    await session.flush()
    await _after_secret_set(session, channel, secret)
    _forget_after_commit(session, cache, channel.id)
    return channel, secret


class ChannelCache:
    """Decrypted channels behind webhook URLs, kept for a few seconds.

    Every inbound request needs its channel's secret; reading and decrypting it each time
    would cost a database round trip per message. Changes made through this process
    (update, rotate) drop the entry at once; other processes see them within ``ttl``.
    """

    def __init__(self, ttl_seconds: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[uuid.UUID, tuple[float, ChannelRuntime]] = {}

    def get(self, channel_id: uuid.UUID) -> ChannelRuntime | None:
        entry = self._entries.get(channel_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, value: ChannelRuntime) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[value.id] = (time.monotonic() + self.ttl, value)

    def drop(self, channel_id: uuid.UUID) -> None:
        self._entries.pop(channel_id, None)


async def runtime_for_webhook(
    session_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    box: SecretBox,
    channel_id: uuid.UUID,
    expected: ChannelType,
    cache: ChannelCache | None = None,
) -> ChannelRuntime:
    """The channel behind a webhook URL; 404 when unknown, inactive or of another type."""
    found = cache.get(channel_id) if cache else None
    if found is None:
        async with session_factory() as session:
            channel = await channel_for_webhook(session, channel_id)
            if channel is None:
                raise NotFound("channel not found")
            found = runtime(channel, box)
        if cache:
            cache.put(found)
    if found.type != expected or not found.is_active:
        raise NotFound("channel not found")
    return found


async def runtime_for(
    session: AsyncSession, scope: TenantScope, box: SecretBox, channel_id: uuid.UUID
) -> ChannelRuntime:
    return runtime(await get_channel(session, scope, channel_id), box)


async def load_state(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any]:
    """What a polling channel remembered (``{}`` before its first run). ``for_update``
    locks the row on PostgreSQL so two pollers of one channel take turns."""
    repo = ChannelStateRepository(session, scope)
    row = await repo.get_for(channel_id, for_update=for_update)
    if row is None and for_update:
        # lock a row that exists: with none yet, two writers would both read ``{}`` and, on
        # READ COMMITTED, the later one's save would overwrite the row the earlier one made
        with contextlib.suppress(IntegrityError):  # another writer made it first
            async with session.begin_nested():
                repo.new(channel_id, {})
                await session.flush()
        row = await repo.get_for(channel_id, for_update=True)
    return dict(row.state) if row is not None else {}


async def save_state(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, state: dict[str, Any]
) -> None:
    """Replace a channel's remembered state, in the caller's transaction (so an offset
    moves only together with the messages it covers)."""
    repo = ChannelStateRepository(session, scope)
    row = await repo.get_for(channel_id)
    if row is None:
        repo.new(channel_id, dict(state))
    else:
        row.state = dict(state)
        row.updated_at = utcnow()
    await session.flush()


def webhook_url(public_url: str, channel: Channel) -> str:
    """The URL a provider posts this channel's inbound updates to."""
    return f"{public_url.rstrip('/')}/api/v1/webhooks/{channel.type}/{channel.id}"


async def register_webhook(
    box: SecretBox, channel: Channel, public_url: str, options: AdapterOptions
) -> None:
    """Tell the provider where to post (channels whose adapter has ``register_webhook``,
    e.g. Telegram's ``setWebhook`` with the channel secret); called on create, config
    change and secret rotation, inside the caller's transaction so a refusal rolls the
    change back. A refusal is a 422 with the provider's reason."""
    found = runtime(channel, box)
    adapter = build_adapter(found.type, found.config, found.secret, options)
    register = getattr(adapter, "register_webhook", None)
    if register is None or not found.is_active:
        return
    try:
        await register(webhook_url(public_url, channel), found.secret)
    except ChannelError as exc:
        raise Unprocessable(f"the {channel.type} provider refused the webhook: {exc}") from None


async def active_runtimes(
    session: AsyncSession, box: SecretBox, channel_type: ChannelType
) -> list[ChannelRuntime]:
    """The decrypted runtimes of every tenant's active channels of one type (pollers)."""
    return [runtime(c, box) for c in await channels_of_type(session, channel_type.value)]
