"""Rate limits on inbound messages, per contact and per tenant, on every channel.

A flooding contact (or a tenant flooded through many contacts) must not run the AI - and
the tenant's LLM bill - without bound. Two fixed one-minute windows are counted per inbound
message, in the process's shared rate-limit store (Redis when configured, so every API
process sees the same counts; a dictionary in the embedded default):

- ``contact:<channel>:<contact external id>`` - at most
  ``FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE`` (default 20, the web widget's default);
- ``tenant:<tenant>`` - at most ``FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE`` (default 600).

What happens over a limit depends on who sends:

- ``REFUSE`` (the REST API channel, the customer API, the web widget): nothing is stored,
  the caller gets 429 with ``Retry-After`` and sends again later;
- ``STORE`` (provider webhooks and the mailbox: e-mail, Telegram, WhatsApp, Avito): the
  provider must still get its 200, or it redelivers for hours, and a customer's message is
  never lost; so the message is stored - marked ``meta.rate_limited`` for the operators -
  but the AI is not asked to answer it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from frontline.channels.base import InboundMessage
from frontline.errors import TooManyRequests
from frontline.kit.metrics import inbound_throttled
from frontline.realtime.presence import RateLimiter

WINDOW_SECONDS = 60
DEFAULT_CONTACT_PER_MINUTE = 20
DEFAULT_TENANT_PER_MINUTE = 600


class OverLimit(enum.Enum):
    REFUSE = "refuse"
    STORE = "store"


# the message to store in place of a new (not redelivered) inbound one; applied by
# ``receive_inbound`` after its duplicate check, so a redelivery is never counted
Admit = Callable[[InboundMessage], Awaitable[InboundMessage]]


@dataclass(frozen=True)
class Throttled:
    scope: str  # "contact" | "tenant"
    limit: int
    retry_after: float


@dataclass(frozen=True)
class InboundLimits:
    limiter: RateLimiter
    contact_per_minute: int = DEFAULT_CONTACT_PER_MINUTE
    tenant_per_minute: int = DEFAULT_TENANT_PER_MINUTE

    async def check(
        self,
        tenant_id: uuid.UUID,
        channel_id: uuid.UUID,
        contact_external_id: str,
        *,
        per_contact: bool = True,
    ) -> Throttled | None:
        """Count one inbound message; ``None`` while within both limits. ``per_contact``
        False: the caller counts its contacts itself (the widget's per-visitor setting)."""
        if per_contact:
            retry = await self.limiter.hit(
                f"inbound:contact:{channel_id}:{contact_external_id}",
                self.contact_per_minute,
                WINDOW_SECONDS,
            )
            if retry is not None:
                return Throttled("contact", self.contact_per_minute, retry)
        retry = await self.limiter.hit(
            f"inbound:tenant:{tenant_id}", self.tenant_per_minute, WINDOW_SECONDS
        )
        if retry is not None:
            return Throttled("tenant", self.tenant_per_minute, retry)
        return None

    async def admit(
        self,
        tenant_id: uuid.UUID,
        channel_id: uuid.UUID,
        channel_type: str,
        inbound: InboundMessage,
        over_limit: OverLimit,
        *,
        per_contact: bool = True,
    ) -> InboundMessage:
        """The message to store: ``inbound`` itself within the limits; over them, 429
        (``REFUSE``) or a copy the AI does not answer (``STORE``)."""
        throttled = await self.check(
            tenant_id, channel_id, inbound.contact.external_id, per_contact=per_contact
        )
        if throttled is None:
            return inbound
        inbound_throttled.labels(channel_type, throttled.scope, over_limit.value).inc()
        if over_limit is OverLimit.REFUSE:
            who = "this contact" if throttled.scope == "contact" else "this workspace"
            raise TooManyRequests(
                f"too many messages from {who}: at most {throttled.limit} a minute",
                throttled.retry_after,
            )
        meta = {**inbound.meta, "rate_limited": throttled.scope}
        return replace(inbound, ai_reply=False, meta=meta)

    def admit_once(
        self,
        tenant_id: uuid.UUID,
        channel_id: uuid.UUID,
        channel_type: str,
        over_limit: OverLimit,
        *,
        per_contact: bool = True,
    ) -> Admit:
        """An ``Admit`` hook for ``receive_inbound``: it counts the message against the
        limits when the message is really new (after the duplicate check, so a provider's
        redelivery of a stored message neither uses up the limit nor gets 429) and at most
        once, however often the transaction is retried after a lost race."""
        admitted: list[InboundMessage] = []

        async def admit(message: InboundMessage) -> InboundMessage:
            if not admitted:
                admitted.append(
                    await self.admit(
                        tenant_id,
                        channel_id,
                        channel_type,
                        message,
                        over_limit,
                        per_contact=per_contact,
                    )
                )
            return admitted[0]

        return admit
