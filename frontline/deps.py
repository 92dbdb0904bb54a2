"""The process's shared services and the FastAPI dependencies built on them.

``Session`` is the commit edge of a request: the transaction commits when the endpoint returns
(before the response is sent, thanks to ``scope="function"``), then buffered side effects run;
any error rolls it back and drops them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.chain import BreakerRegistry
from frontline.attachments.service import AttachmentRuntime
from frontline.auth.throttle import LoginThrottle
from frontline.auth.tokens import TokenCodec
from frontline.channels.registry import AdapterOptions
from frontline.channels.service import ChannelCache
from frontline.conversations.limits import InboundLimits
from frontline.jobs.registry import JobRegistry
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.knowledge.index import IndexBackend
from frontline.realtime.broker import Broker
from frontline.realtime.presence import PresenceStore, RateLimiter
from frontline.realtime.visitors import VisitorTokens
from frontline.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    secret_box: SecretBox
    tokens: TokenCodec
    broker: Broker
    jobs: JobRegistry
    adapter_options: AdapterOptions
    channel_cache: ChannelCache
    breakers: BreakerRegistry
    knowledge: IndexBackend
    presence: PresenceStore
    rate_limiter: RateLimiter
    inbound_limits: InboundLimits
    visitor_tokens: VisitorTokens
    attachments: AttachmentRuntime
    login_throttle: LoginThrottle

    async def aclose(self) -> None:
        """Release connections (database pool, Redis) when the process stops."""
        await self.broker.close()
        await self.presence.close()
        await self.rate_limiter.close()
        await self.attachments.store.close()
        await self.login_throttle.store.close()
        await self.db.dispose()


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs plain-function dependencies in a thread pool
    services: Services = request.app.state.services
    return services


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.services.db.transaction() as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
Session = Annotated[AsyncSession, Depends(_session, scope="function")]
