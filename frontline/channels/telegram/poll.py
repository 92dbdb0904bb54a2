"""Long polling (``getUpdates``) for Telegram channels and alert bots in ``poll`` mode: for
set-ups without a public HTTPS URL (the embedded default on a laptop or behind NAT).

Each update is handled exactly as the webhook handles it, then the channel's offset
(``update_id + 1``) is saved in its :class:`~frontline.models.ChannelState`; a poller killed
between the two re-reads that update on restart and the message dedup makes it a no-op.
Telegram forgets updates below the offset it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from frontline.channels import service
from frontline.channels.base import ChannelError, ChannelType
from frontline.channels.registry import AdapterOptions, build_adapter
from frontline.channels.telegram import alerts
from frontline.channels.telegram.adapter import ALLOWED_UPDATES, TelegramChannelAdapter
from frontline.channels.telegram.botapi import BotApi
from frontline.channels.telegram.hooks import SETTINGS_KEY
from frontline.channels.telegram.inbound import handle_update
from frontline.channels.telegram.updates import ParsedUpdate, parse_update
from frontline.conversations.limits import InboundLimits
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.models import Channel
from frontline.tenants import service as tenants

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
BATCH = 100


async def polling_channels(db: Database, box: SecretBox) -> list[service.ChannelRuntime]:
    """Every active Telegram channel in ``poll`` mode, across tenants (the poller is an
    operations process, like the worker)."""
    async with db.reader() as session:
        rows = await session.execute(
            select(Channel).where(
                Channel.type == ChannelType.TELEGRAM.value, Channel.is_active.is_(True)
            )
        )
        found = [service.runtime(c, box) for c in rows.scalars()]
    return [c for c in found if c.config.get("mode") == "poll"]


# handles one parsed update; returns the Bot API call answering it (or None)
UpdateHandler = Callable[[ParsedUpdate], Awaitable[dict[str, Any] | None]]


async def _round(
    api: BotApi,
    offset: object,
    allowed: list[str],
    long_poll: int,
    handle: UpdateHandler,
    save_offset: Callable[[int], Awaitable[None]],
) -> int:
    """``getUpdates`` from ``offset``; each update handled, answered, then its offset
    saved (so a crash re-reads at most the update being handled)."""
    params: dict[str, Any] = {"timeout": long_poll, "limit": BATCH, "allowed_updates": allowed}
    if isinstance(offset, int):
        params["offset"] = offset
    updates = await api.call("getUpdates", params, wait=long_poll + 10)
    if not isinstance(updates, list):
        return 0
    for raw in updates:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            continue
        reply = await handle(parse_update(raw))
        if reply is not None:
            await _answer(api, reply)
        await save_offset(update_id + 1)
    return len(updates)


async def poll_once(
    db: Database,
    runtime: service.ChannelRuntime,
    options: AdapterOptions,
    long_poll: int = LONG_POLL_SECONDS,
    limits: InboundLimits | None = None,
) -> int:
    """One ``getUpdates`` round for one channel; returns how many updates it read."""
    scope = TenantScope(runtime.tenant_id)
    async with db.reader() as session:
        state = await service.load_state(session, scope, runtime.id)
    adapter = build_adapter(runtime.type, runtime.config, runtime.secret, options)
    assert isinstance(adapter, TelegramChannelAdapter)

    async def handle(parsed: ParsedUpdate) -> dict[str, Any] | None:
        return (await handle_update(db, runtime, adapter, parsed, limits)).reply

    async def save(offset: int) -> None:
        async with db.transaction() as session:
            await service.save_state(session, scope, runtime.id, {**state, "offset": offset})

    return await _round(adapter.api, state.get("offset"), ALLOWED_UPDATES, long_poll, handle, save)


async def poll_alerts_once(
    db: Database,
    box: SecretBox,
    tenant_id: uuid.UUID,
    call_seconds: float,
    long_poll: int = LONG_POLL_SECONDS,
) -> int:
    """One ``getUpdates`` round for a workspace's alert bot (its "Accept" presses)."""
    found = await alerts.stored_for_webhook(db, tenant_id)
    if found is None or found[0].get("mode") != "poll":
        return 0
    stored, locale = found

    async def handle(parsed: ParsedUpdate) -> dict[str, Any] | None:
        return await alerts.handle_update(db, tenant_id, locale, parsed)

    async def save(offset: int) -> None:
        await alerts.save_offset(db, tenant_id, offset)

    api = alerts.bot_for(stored, box, call_seconds)
    return await _round(api, stored.get("offset"), ["callback_query"], long_poll, handle, save)


async def _answer(api: BotApi, reply: dict[str, Any]) -> None:
    call = dict(reply)
    method = str(call.pop("method"))
    try:
        await api.call(method, call)
    except ChannelError as exc:  # a late button answer is harmless
        log.info("telegram callback answer failed", extra={"error": str(exc)})


async def poll_forever(what: str, once: Callable[[], Awaitable[int]], stop: asyncio.Event) -> None:
    """Run ``once`` until ``stop``; failures back off (up to a minute, or Telegram's
    ``retry_after``) and are logged."""
    delay = 1.0
    while not stop.is_set():
        try:
            await once()
            delay = 1.0
        except ChannelError as exc:
            log.warning("telegram getUpdates failed", extra={"poller": what, "error": str(exc)})
            retry = getattr(exc, "retry_after", None)
            await _sleep(stop, float(retry) if retry else delay)
            delay = min(delay * 2, 60.0)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def polling_alert_bots(db: Database) -> list[uuid.UUID]:
    """The workspaces whose alert bot is in ``poll`` mode."""
    async with db.reader() as session:
        found = await tenants.all_tenants(session)
    return [
        t.id for t in found if ((t.settings or {}).get(SETTINGS_KEY) or {}).get("mode") == "poll"
    ]


async def run_pollers(
    db: Database,
    box: SecretBox,
    options: AdapterOptions,
    stop: asyncio.Event,
    channel_ids: list[uuid.UUID] | None = None,
    long_poll: int = LONG_POLL_SECONDS,
    limits: InboundLimits | None = None,
) -> int:
    """Poll every ``poll``-mode channel (or only the given ones) and, without
    ``channel_ids``, every poll-mode alert bot, until ``stop``; returns how many bots were
    polled (read once at start: restart the poller after adding one)."""
    channels = await polling_channels(db, box)
    if channel_ids:
        channels = [c for c in channels if c.id in set(channel_ids)]
    tenant_ids = [] if channel_ids else await polling_alert_bots(db)
    tasks = [
        poll_forever(
            f"channel {c.id}",
            functools.partial(poll_once, db, c, options, long_poll, limits),
            stop,
        )
        for c in channels
    ]
    tasks += [
        poll_forever(
            f"alerts {tenant_id}",
            functools.partial(
                poll_alerts_once, db, box, tenant_id, options.outbound_timeout_seconds, long_poll
            ),
            stop,
        )
        for tenant_id in tenant_ids
    ]
    if tasks:
        await asyncio.gather(*tasks)
    return len(tasks)
