"""Long polling (``getUpdates``) for Telegram channels in ``poll`` mode: for set-ups without
a public HTTPS URL (the embedded default on a laptop or behind NAT).

Each update is handled exactly as the webhook handles it, then the channel's offset
(``update_id + 1``) is saved in its :class:`~frontline.models.ChannelState`; a poller killed
between the two re-reads that update on restart and the message dedup makes it a no-op.
Telegram forgets updates below the offset it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from sqlalchemy import select

from frontline.channels import service
from frontline.channels.base import ChannelError, ChannelType
from frontline.channels.registry import AdapterOptions, build_adapter
from frontline.channels.telegram.adapter import ALLOWED_UPDATES, TelegramChannelAdapter
from frontline.channels.telegram.inbound import handle_update
from frontline.channels.telegram.updates import parse_update
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.models import Channel

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


async def poll_once(
    db: Database,
    runtime: service.ChannelRuntime,
    options: AdapterOptions,
    long_poll: int = LONG_POLL_SECONDS,
) -> int:
    """One ``getUpdates`` round for one channel; returns how many updates it handled."""
    scope = TenantScope(runtime.tenant_id)
    async with db.reader() as session:
        state = await service.load_state(session, scope, runtime.id)
    adapter = build_adapter(runtime.type, runtime.config, runtime.secret, options)
    assert isinstance(adapter, TelegramChannelAdapter)
    params: dict[str, Any] = {
        "timeout": long_poll,
        "limit": BATCH,
        "allowed_updates": ALLOWED_UPDATES,
    }
    if isinstance(state.get("offset"), int):
        params["offset"] = state["offset"]
    updates = await adapter.api.call("getUpdates", params, wait=long_poll + 10)
    if not isinstance(updates, list):
        return 0
    for raw in updates:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            continue
        outcome = await handle_update(db, runtime, adapter, parse_update(raw))
        if outcome.reply is not None:
            call = dict(outcome.reply)
            method = str(call.pop("method"))
            try:
                await adapter.api.call(method, call)
            except ChannelError as exc:  # a late button answer is harmless
                log.info("telegram callback answer failed", extra={"error": str(exc)})
        async with db.transaction() as session:
            await service.save_state(session, scope, runtime.id, {**state, "offset": update_id + 1})
    return len(updates)


async def poll_channel(
    db: Database,
    runtime: service.ChannelRuntime,
    options: AdapterOptions,
    stop: asyncio.Event,
    long_poll: int = LONG_POLL_SECONDS,
) -> None:
    """Poll until ``stop``; failures back off (up to a minute) and are logged."""
    delay = 1.0
    while not stop.is_set():
        try:
            await poll_once(db, runtime, options, long_poll)
            delay = 1.0
        except ChannelError as exc:
            log.warning(
                "telegram getUpdates failed",
                extra={"channel_id": str(runtime.id), "error": str(exc)},
            )
            retry = getattr(exc, "retry_after", None)
            await _sleep(stop, float(retry) if retry else delay)
            delay = min(delay * 2, 60.0)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_pollers(
    db: Database,
    box: SecretBox,
    options: AdapterOptions,
    stop: asyncio.Event,
    channel_ids: list[uuid.UUID] | None = None,
) -> int:
    """Poll every ``poll``-mode channel (or the given ones) until ``stop``; returns how
    many channels were polled."""
    channels = await polling_channels(db, box)
    if channel_ids:
        channels = [c for c in channels if c.id in set(channel_ids)]
    if not channels:
        return 0
    await asyncio.gather(*(poll_channel(db, c, options, stop) for c in channels))
    return len(channels)
