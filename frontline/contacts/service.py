"""Finding customers by their channel identity, and keeping their details."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels.base import InboundContact
from frontline.contacts.attributes import KEY, AttributeType, validate
from frontline.contacts.repository import (
    AttributeRepository,
    ContactRepository,
    IdentityRepository,
    MergeRepository,
)
from frontline.contacts.schemas import ContactOut, ContactPatch, ContactRef, IdentityOut
from frontline.errors import Conflict, NotFound, Unprocessable
from frontline.kit.db import Unit, as_unit
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Contact, ContactAttribute, ContactIdentity


async def resolve_identity(
    unit: AsyncSession | Unit,
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
    if known is None and not looked_up:
        found = await IdentityRepository(as_unit(unit).session(), scope).find(
            channel_id, inbound.external_id
        )
        known = _ref(found[1]) if found else None
    if known is not None:
        missing = {
            field: getattr(inbound, field)
            for field in ("name", "email", "phone")
            if getattr(inbound, field) and not getattr(known, field)
        }
        if missing:
            session = as_unit(unit).session()
            await ContactRepository(session, scope).fill_details(
                known.id, {**missing, "updated_at": utcnow()}
            )
            known = replace(known, **missing)
        return known, False
    # an ORM session only for writes (a known contact with nothing new costs nothing)
    session = as_unit(unit).session()
    identities = IdentityRepository(session, scope)
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
        if field == "attributes":
            await set_attributes(session, scope, contact, value or {})
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


async def set_attributes(
    session: AsyncSession,
    scope: TenantScope,
    contact: Contact,
    values: Mapping[str, Any],
    prefix: str = "attributes",
) -> None:
    """Apply typed attribute values to ``contact`` (422 naming the field on a wrong type);
    keys seen for the first time are declared with the type of their value."""
    if not values:
        return
    repo = AttributeRepository(session, scope)
    types = {a.key: AttributeType(a.type) for a in await repo.all()}
    merged, declared = validate(values, types, contact.attributes or {}, prefix)
    for key, kind in declared.items():
        repo.add(ContactAttribute(id=uuid.uuid4(), key=key, type=kind.value, label=""))
    contact.attributes = merged
    contact.updated_at = utcnow()
    await session.flush()


async def attribute_types(session: AsyncSession, scope: TenantScope) -> list[ContactAttribute]:
    return await AttributeRepository(session, scope).all()


async def declare_attribute(
    session: AsyncSession, scope: TenantScope, key: str, kind: AttributeType, label: str
) -> ContactAttribute:
    """Declare (or relabel) a custom attribute; its type cannot change once declared."""
    if not KEY.match(key):
        raise Unprocessable("key: 1-50 characters a-z, 0-9 and _, starting with a letter")
    repo = AttributeRepository(session, scope)
    found = next((a for a in await repo.all() if a.key == key), None)
    if found is not None:
        if found.type != kind.value:
            raise Conflict(f"attribute {key} is already a {found.type}")
        found.label = label
    else:
        found = repo.add(ContactAttribute(id=uuid.uuid4(), key=key, type=kind.value, label=label))
    await session.flush()
    return found


async def merges(session: AsyncSession, scope: TenantScope, contact_id: uuid.UUID) -> list[Any]:
    return await MergeRepository(session, scope).for_contact(contact_id)
