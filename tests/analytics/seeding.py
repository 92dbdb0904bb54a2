"""Random conversations and messages for the analytics tests that compare the roll-ups and
facts with the numbers computed from the raw rows."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.models import Contact, Conversation, Message

START = datetime(2026, 5, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Mix:
    """How the random conversations are drawn."""

    statuses: Sequence[str]
    handed_share: float
    reasons: Sequence[str | None]  # a handed-off conversation's reason, drawn from these
    reopened_share: float


async def random_contact(session: AsyncSession, tenant_id: uuid.UUID) -> Contact:
    contact = Contact(tenant_id=tenant_id, name="Random")
    session.add(contact)
    await session.flush()
    return contact


def random_conversation(
    rng: random.Random, tenant_id: uuid.UUID, contact_id: uuid.UUID, channels: list[str], mix: Mix
) -> Conversation:
    """One conversation within 20 days of START, resolved, handed off and rated at random."""
    created = START + timedelta(hours=rng.uniform(0, 24 * 20))
    status = rng.choice(mix.statuses)
    handed = rng.random() < mix.handed_share
    return Conversation(
        tenant_id=tenant_id,
        channel_id=uuid.UUID(rng.choice(channels)),
        contact_id=contact_id,
        status=status,
        subject="",
        created_at=created,
        last_activity_at=created,
        updated_at=created,
        resolved_at=created + timedelta(minutes=rng.randint(1, 300))
        if status == "resolved"
        else None,
        handed_off_at=created + timedelta(seconds=rng.randint(1, 90)) if handed else None,
        handoff_reason=rng.choice(mix.reasons) if handed else None,
        csat_rating=rng.choice([None, None, 1, 2, 3, 4, 5]),
        reopened_soon=rng.random() < mix.reopened_share,
    )


def message(conv: Conversation, sender: str, at: datetime, internal: bool, text: str) -> Message:
    return Message(
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        channel_id=conv.channel_id,
        sender_type=sender,
        is_internal=internal,
        text=text,
        delivery_status="sent",
        created_at=at,
    )
