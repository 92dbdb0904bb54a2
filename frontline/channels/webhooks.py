"""The inbound side messenger webhook endpoints share: every message of one delivery stored."""

from __future__ import annotations

from collections.abc import Iterable

from frontline.channels.base import InboundMessage
from frontline.channels.service import ChannelRuntime
from frontline.conversations import flows
from frontline.conversations.limits import InboundLimits, OverLimit
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope


async def ingest_messages(
    db: Database,
    runtime: ChannelRuntime,
    inbound: Iterable[InboundMessage],
    limits: InboundLimits | None,
) -> tuple[int, int]:
    """Store each message of one webhook delivery, each in its own transaction; a message
    over a rate limit is stored without an AI turn (a refusal would make the platform
    deliver it again). Returns ``(stored, duplicates)``."""
    scope = TenantScope(runtime.tenant_id)
    stored = duplicates = 0
    for message in inbound:
        result = await flows.ingest(
            db,
            scope,
            runtime.id,
            runtime.type.value,
            message,
            limits=limits,
            over_limit=OverLimit.STORE,
        )
        duplicates += result.duplicate
        stored += not result.duplicate
    return stored, duplicates
