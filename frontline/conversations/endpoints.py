"""HTTP: the staff's conversations (tickets) API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from frontline.attachments import service as attachments
from frontline.auth.deps import Operator
from frontline.conversations import flows, service
from frontline.conversations.repository import ConversationFilter
from frontline.conversations.schemas import (
    AssignIn,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    LastMessage,
    NoteIn,
)
from frontline.deps import Session
from frontline.errors import Unprocessable
from frontline.kit.pagination import CursorQuery
from frontline.kit.params import BIGINT_MAX, PathId
from frontline.messages import service as messages
from frontline.messages.schemas import MessageOut, ReplyIn
from frontline.models import ConversationStatus, Priority
from frontline.tenants import service as tenants
from frontline.tickets import service as tickets
from frontline.tickets.schemas import ConversationTagsIn, TagOut

router = APIRouter(tags=["conversations"])


@router.get("/conversations", response_model=ConversationPage)
async def list_conversations(
    subject: Operator,
    session: Session,
    status_: Annotated[list[ConversationStatus] | None, Query(alias="status")] = None,
    assignee: Annotated[str | None, Query(description="a user id, 'me' or 'none'")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    category_id: uuid.UUID | None = None,
    channel_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    tag_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    assignee_id: uuid.UUID | None = None
    unassigned = False
    if assignee == "me":
        assignee_id = subject.user_id or uuid.UUID(int=0)
    elif assignee == "none":
        unassigned = True
    elif assignee:
        try:
            assignee_id = uuid.UUID(assignee)
        except ValueError:
            raise Unprocessable("assignee must be a user id, 'me' or 'none'") from None
    flt = ConversationFilter(
        status=[s.value for s in status_] if status_ else None,
        assignee_id=assignee_id,
        unassigned=unassigned,
        priority=[p.value for p in priority] if priority else None,
        category_id=category_id,
        channel_id=channel_id,
        contact_id=contact_id,
        tag_id=tag_id,
        q=q,
    )
    rows, next_cursor = await service.search(
        session, subject.scope, flt, limit=limit, cursor=cursor
    )
    previews = await service.last_messages(session, subject.scope, [r.id for r in rows])
    tags = await tickets.tags_of(session, subject.scope, [r.id for r in rows])
    items = []
    for row in rows:
        item = ConversationOut.model_validate(row)
        item.tags = [TagOut.model_validate(t) for t in tags.get(row.id, [])]
        if row.id in previews:
            sender, text, at = previews[row.id]
            item.last_message = LastMessage(sender_type=sender, text=text, created_at=at)
        items.append(item)
    return ConversationPage(items=items, next_cursor=next_cursor)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
async def get_conversation(
    conversation_id: PathId, subject: Operator, session: Session
) -> ConversationDetail:
    conversation = await service.get(session, subject.scope, conversation_id)
    rows = await messages.list_messages(session, subject.scope, conversation.id)
    out = ConversationOut.model_validate(conversation).model_dump()
    tags = await tickets.tags_of(session, subject.scope, [conversation.id])
    out["tags"] = [TagOut.model_validate(t) for t in tags.get(conversation.id, [])]
    return ConversationDetail(
        **out, messages=await attachments.messages_out(session, subject.scope, rows)
    )


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
async def list_messages(
    conversation_id: PathId,
    subject: Operator,
    session: Session,
    after_id: Annotated[int | None, Query(ge=0, le=BIGINT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[MessageOut]:
    conversation = await service.get(session, subject.scope, conversation_id)
    rows = await messages.list_messages(
        session, subject.scope, conversation.id, after_id=after_id, limit=limit
    )
    return await attachments.messages_out(session, subject.scope, rows)


@router.get("/conversations/{conversation_id}/tags", response_model=list[TagOut])
async def get_conversation_tags(
    conversation_id: PathId, subject: Operator, session: Session
) -> list[TagOut]:
    conversation = await service.get(session, subject.scope, conversation_id)
    tags = await tickets.tags_of(session, subject.scope, [conversation.id])
    return [TagOut.model_validate(t) for t in tags.get(conversation.id, [])]


@router.put("/conversations/{conversation_id}/tags", response_model=list[TagOut])
async def set_conversation_tags(
    conversation_id: PathId, body: ConversationTagsIn, subject: Operator, session: Session
) -> list[TagOut]:
    """Replace the conversation's tags with ``tag_ids`` (an empty list removes them all)."""
    conversation = await service.get(session, subject.scope, conversation_id)
    tags = await tickets.set_conversation_tags(
        session, subject.scope, conversation.id, body.tag_ids
    )
    return [TagOut.model_validate(t) for t in tags]


@router.patch("/conversations/{conversation_id}", response_model=ConversationOut)
async def update_conversation(
    conversation_id: PathId, body: ConversationPatch, subject: Operator, session: Session
) -> ConversationOut:
    return ConversationOut.model_validate(
        await service.update(session, subject.scope, conversation_id, body)
    )


@router.post("/conversations/{conversation_id}/assign", response_model=ConversationOut)
async def assign_conversation(
    conversation_id: PathId, body: AssignIn, subject: Operator, session: Session
) -> ConversationOut:
    is_member = body.assignee_id is not None and await tenants.is_member(
        session, subject.scope, body.assignee_id
    )
    conversation = await service.assign(
        session, subject.scope, conversation_id, body.assignee_id, assignee_is_member=is_member
    )
    return ConversationOut.model_validate(conversation)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
)
async def reply(
    conversation_id: PathId, body: ReplyIn, subject: Operator, session: Session
) -> MessageOut:
    _conversation, message = await flows.operator_reply(
        session, subject.scope, conversation_id, body.text, subject.user_id
    )
    return MessageOut.model_validate(message)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/resend",
    response_model=MessageOut,
)
async def resend_message(
    conversation_id: PathId, message_id: PathId, subject: Operator, session: Session
) -> MessageOut:
    """Send again a reply whose delivery is ``unknown`` (its send was interrupted and the
    channel cannot tell whether it arrived): a deliberate operator's decision, since the
    customer may then get it twice. 409 ``message_not_unknown`` for any other state."""
    conversation = await service.get(session, subject.scope, conversation_id)
    return await messages.resend(session, subject.scope, conversation.id, message_id)


@router.post(
    "/conversations/{conversation_id}/notes",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_note(
    conversation_id: PathId, body: NoteIn, subject: Operator, session: Session
) -> MessageOut:
    note = await flows.add_note(session, subject.scope, conversation_id, body.text, subject.user_id)
    return MessageOut.model_validate(note)
