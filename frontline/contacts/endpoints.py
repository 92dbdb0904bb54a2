from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from frontline.auth.deps import Admin, Operator
from frontline.contacts import flows, service
from frontline.contacts.attributes import AttributeType
from frontline.contacts.schemas import (
    AttributeIn,
    AttributeOut,
    ContactConversationOut,
    ContactOut,
    ContactPatch,
    MergeIn,
    MergeOut,
)
from frontline.conversations import service as conversations
from frontline.deps import Session

router = APIRouter(tags=["contacts"])


@router.get("/contacts/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: uuid.UUID, subject: Operator, session: Session) -> ContactOut:
    contact = await service.get_contact(session, subject.scope, contact_id)
    return await service.contact_out(session, subject.scope, contact)


@router.patch("/contacts/{contact_id}", response_model=ContactOut)
async def update_contact(
    contact_id: uuid.UUID, body: ContactPatch, subject: Operator, session: Session
) -> ContactOut:
    """Details, the AI switch and typed custom attributes (a wrong type or an oversize
    value is 422 naming the field, e.g. ``attributes.plan``)."""
    contact = await service.update_contact(session, subject.scope, contact_id, body)
    return await service.contact_out(session, subject.scope, contact)


@router.get("/contacts/{contact_id}/conversations", response_model=list[ContactConversationOut])
async def contact_conversations(
    contact_id: uuid.UUID,
    subject: Operator,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ContactConversationOut]:
    """The contact's conversations on every channel, newest first (the sidebar's history)."""
    contact = await service.get_contact(session, subject.scope, contact_id)
    rows = await conversations.for_contact(session, subject.scope, contact.id, limit=limit)
    return [ContactConversationOut.model_validate(c) for c in rows]


@router.post("/contacts/{contact_id}/merge", response_model=ContactOut)
async def merge_contact(
    contact_id: uuid.UUID, body: MergeIn, subject: Operator, session: Session
) -> ContactOut:
    """Merge another contact into this one: its conversations and channel identities move
    here, details this one lacks are kept, the other is deleted; the merge is recorded with
    who did it (``GET /contacts/{id}/merges``)."""
    contact = await flows.merge(
        session,
        subject.scope,
        body.source_contact_id,
        contact_id,
        merged_by=subject.user_id,
        reason="operator",
    )
    return await service.contact_out(session, subject.scope, contact)


@router.get("/contacts/{contact_id}/merges", response_model=list[MergeOut])
async def contact_merges(
    contact_id: uuid.UUID, subject: Operator, session: Session
) -> list[MergeOut]:
    contact = await service.get_contact(session, subject.scope, contact_id)
    rows = await service.merges(session, subject.scope, contact.id)
    return [MergeOut.model_validate(m) for m in rows]


@router.get("/contact-attributes", response_model=list[AttributeOut])
async def list_attributes(subject: Operator, session: Session) -> list[AttributeOut]:
    """The tenant's custom attributes and their types."""
    rows = await service.attribute_types(session, subject.scope)
    return [AttributeOut.model_validate(a) for a in rows]


@router.post("/contact-attributes", response_model=AttributeOut)
async def declare_attribute(body: AttributeIn, subject: Admin, session: Session) -> AttributeOut:
    """Declare an attribute's type before any value is set (409 if it already has another)."""
    row = await service.declare_attribute(
        session, subject.scope, body.key, AttributeType(body.type), body.label
    )
    return AttributeOut.model_validate(row)
