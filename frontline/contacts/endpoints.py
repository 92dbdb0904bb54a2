from __future__ import annotations

import uuid

from fastapi import APIRouter

from frontline.auth.deps import Operator
from frontline.contacts import service
from frontline.contacts.schemas import ContactOut, ContactPatch
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
    contact = await service.update_contact(session, subject.scope, contact_id, body)
    return await service.contact_out(session, subject.scope, contact)
