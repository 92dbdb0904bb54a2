"""Contact workflows that reach other domains: identifying a customer the host application
vouches for, and merging two contacts (their conversations move along)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.bookings import service as bookings
from frontline.contacts import repository
from frontline.contacts.repository import ContactRepository, IdentityRepository, MergeRepository
from frontline.contacts.service import set_attributes
from frontline.conversations import service as conversations
from frontline.errors import NotFound, Unprocessable
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Contact, ContactIdentity, ContactMerge


@dataclass(frozen=True, slots=True)
class Profile:
    """What a host application says about its user (``None``: not given)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attributes: Mapping[str, Any] | None = None


def _apply_profile(contact: Contact, profile: Profile) -> None:
    for field in ("name", "email", "phone"):
        value = getattr(profile, field)
        if value:
            setattr(contact, field, value)


async def merge(
    session: AsyncSession,
    scope: TenantScope,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    merged_by: uuid.UUID | None,
    reason: str,
) -> Contact:
    """Merge ``source`` into ``target``: its conversations and channel identities move,
    details and attributes ``target`` lacks are kept, ``source`` is deleted, and the merge is
    recorded (who, when, what moved)."""
    if source_id == target_id:
        raise Unprocessable("a contact cannot be merged into itself")
    contacts = ContactRepository(session, scope)
    source, target = await contacts.get(source_id), await contacts.get(target_id)
    if source is None or target is None:
        raise NotFound("contact not found")
    if source.user_id and target.user_id and source.user_id != target.user_id:
        raise Unprocessable("both contacts are identified as different users; not merged")
    moved = await conversations.move_contact(session, scope, source.id, target.id)
    await repository.move_identities(session, scope, source.id, target.id)
    bookings_moved = await bookings.move_contact(session, scope, source.id, target.id)
    for field in ("name", "email", "phone", "user_id"):
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
    target.attributes = {**(source.attributes or {}), **(target.attributes or {})}
    target.updated_at = utcnow()
    MergeRepository(session, scope).add(
        ContactMerge(
            id=uuid.uuid4(),
            source_contact_id=source.id,
            target_contact_id=target.id,
            merged_by=merged_by,
            reason=reason,
            summary={
                "conversations": moved,
                "bookings": bookings_moved,
                "source": {"name": source.name, "email": source.email, "phone": source.phone},
            },
        )
    )
    await session.flush()
    await session.delete(source)
    await session.flush()
    return target


async def identify(
    session: AsyncSession,
    scope: TenantScope,
    channel_id: uuid.UUID,
    *,
    user_id: str,
    external_id: str,
    anonymous_external_id: str | None,
    profile: Profile,
) -> Contact:
    """The contact of a verified host-application user (``external_id``: their identity on
    the channel), created on first sight. A browser's anonymous history
    (``anonymous_external_id``) joins it the first time that browser identifies: an
    anonymous contact is merged in (or becomes the user's contact when they have none yet),
    and the anonymous identity is dropped so the browser's old token no longer shows it.
    Another user's contact is never merged."""
    identities = IdentityRepository(session, scope)
    found = await identities.find(channel_id, external_id)
    anonymous = None
    if anonymous_external_id and anonymous_external_id != external_id:
        anonymous = await identities.find(channel_id, anonymous_external_id)
        if anonymous is not None and anonymous[1].user_id is not None:
            anonymous = None  # another identified user's browser: never theirs to merge
    if found is None:
        if anonymous is not None:
            contact = anonymous[1]
        else:
            contact = ContactRepository(session, scope).add(
                Contact(id=uuid.uuid4(), ai_enabled=True, attributes={})
            )
        contact.user_id = user_id
        identities.add(
            ContactIdentity(contact_id=contact.id, channel_id=channel_id, external_id=external_id)
        )
        await session.flush()
    else:
        contact = found[1]
        if anonymous is not None and anonymous[1].id != contact.id:
            contact = await merge(
                session, scope, anonymous[1].id, contact.id, merged_by=None, reason="identified"
            )
    if anonymous is not None and anonymous_external_id:
        await repository.delete_identity(session, scope, channel_id, anonymous_external_id)
    _apply_profile(contact, profile)
    await set_attributes(session, scope, contact, profile.attributes or {})
    contact.updated_at = utcnow()
    await session.flush()
    return contact
