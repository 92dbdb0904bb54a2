"""Finding customers by their channel identity, and keeping their details."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels.base import InboundContact
from frontline.contacts.repository import ContactRepository, IdentityRepository
from frontline.contacts.schemas import ContactOut, ContactPatch, ContactRef, IdentityOut
from frontline.errors import NotFound
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Contact, ContactIdentity


async def resolve_identity(
    session: AsyncSession,
    scope: TenantScope,
    channel_id: uuid.UUID,
    inbound: InboundContact,
    known: ContactRef | None = None,
    looked_up: bool = False,
) -> tuple[ContactRef, bool]:
    """The contact behind ``inbound`` on this channel, created on first contact.

    ``known`` is the contact already found by identity (the inbound path reads it together
    with the rest of its context); ``looked_up`` says that look-up was done, so a missing
    ``known`` means a new contact. Otherwise the identity is looked up here.
    Returns ``(contact, created)``. Details the customer gives later fill empty fields.
    A concurrent first contact of the same identity makes the unique constraint fail at
    flush; the caller's edge retries the whole unit of work.
    """
    identities = IdentityRepository(session, scope)
    if known is None and not looked_up:
        found = await identities.find(channel_id, inbound.external_id)
        known = _ref(found[1]) if found else None
    if known is not None:
        missing = {
            field: getattr(inbound, field)
            for field in ("name", "email", "phone")
            if getattr(inbound, field) and not getattr(known, field)
        }
        if missing:
            await ContactRepository(session, scope).fill_details(
                known.id, {**missing, "updated_at": utcnow()}
            )
            known = replace(known, **missing)
        return known, False
    contact = ContactRepository(session, scope).add(
        Contact(
            id=uuid.uuid4(),
            name=inbound.name,
            email=inbound.email,
            phone=inbound.phone,
            ai_enabled=True,
        )
    )
    identities.add(
        ContactIdentity(
            contact_id=contact.id, channel_id=channel_id, external_id=inbound.external_id
        )
    )
    await session.flush()
    return _ref(contact), True


def _ref(contact: Contact) -> ContactRef:
    return ContactRef(contact.id, contact.name, contact.email, contact.phone, contact.ai_enabled)


async def get_contact(session: AsyncSession, scope: TenantScope, contact_id: uuid.UUID) -> Contact:
    contact = await ContactRepository(session, scope).get(contact_id)
    if contact is None:
        raise NotFound("contact not found")
    return contact


async def contact_out(session: AsyncSession, scope: TenantScope, contact: Contact) -> ContactOut:
    identities = await IdentityRepository(session, scope).for_contact(contact.id)
    out = ContactOut.model_validate(contact)
    out.identities = [IdentityOut.model_validate(i) for i in identities]
    return out


async def update_contact(
    session: AsyncSession, scope: TenantScope, contact_id: uuid.UUID, patch: ContactPatch
) -> Contact:
    contact = await get_contact(session, scope, contact_id)
    for field, value in patch.model_dump(exclude_unset=True).items():
        if field == "ai_enabled" and value is None:
            continue
        setattr(contact, field, value)
    contact.updated_at = utcnow()
    await session.flush()
    return contact


async def identity_on_channel(
    session: AsyncSession, scope: TenantScope, contact_id: uuid.UUID, channel_id: uuid.UUID
) -> ContactIdentity | None:
    return await IdentityRepository(session, scope).for_contact_on_channel(contact_id, channel_id)


async def find_by_identity(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, external_id: str
) -> Contact | None:
    found = await IdentityRepository(session, scope).find(channel_id, external_id)
    return found[1] if found else None
