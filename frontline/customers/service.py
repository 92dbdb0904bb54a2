"""The customer API's logic. A customer is one host-application user on one web channel:
the contact whose identity is that user's visitor id (the same the widget uses, so the API
and the widget share one history). Every look-up goes through that contact: another
customer's or tenant's conversation is simply not found (404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels.base import ChannelType, InboundContact, InboundMessage
from frontline.channels.service import ChannelRuntime
from frontline.contacts import flows as contact_flows
from frontline.contacts import service as contacts
from frontline.conversations import flows as conversation_flows
from frontline.conversations import service as conversations
from frontline.conversations.limits import InboundLimits, OverLimit
from frontline.customers.schemas import (
    CustomerConversationOut,
    CustomerMessageOut,
    CustomerMessagePage,
    ProfileIn,
    ProfileOut,
    SentOut,
)
from frontline.errors import NotFound, Unprocessable
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import Contact, Conversation
from frontline.realtime.visitors import contact_external_id, identified_visitor_id


@dataclass(frozen=True, slots=True)
class Customer:
    channel: ChannelRuntime
    user_id: str

    @property
    def scope(self) -> TenantScope:
        return TenantScope(self.channel.tenant_id)

    @property
    def visitor_id(self) -> str:
        return identified_visitor_id(self.channel.id, self.user_id)

    @property
    def external_id(self) -> str:
        return contact_external_id(self.visitor_id)


async def contact_of(session: AsyncSession, customer: Customer) -> Contact | None:
    return await contacts.find_by_identity(
        session, customer.scope, customer.channel.id, customer.external_id
    )


async def ensure_contact(session: AsyncSession, customer: Customer, profile: ProfileIn) -> Contact:
    """The customer's contact (created, with their user id, on first use)."""
    return await contact_flows.identify(
        session,
        customer.scope,
        customer.channel.id,
        user_id=customer.user_id,
        external_id=customer.external_id,
        anonymous_external_id=None,
        profile=contact_flows.Profile(
            name=profile.name,
            email=profile.email,
            phone=profile.phone,
            attributes=profile.attributes,
        ),
    )


def profile_out(customer: Customer, contact: Contact | None) -> ProfileOut:
    return ProfileOut(
        user_id=customer.user_id,
        name=contact.name if contact else None,
        email=contact.email if contact else None,
        phone=contact.phone if contact else None,
        attributes=dict(contact.attributes or {}) if contact else {},
    )


async def own_conversation(
    session: AsyncSession, customer: Customer, conversation_id: int
) -> Conversation:
    """The customer's conversation on this channel, else 404 (whoever's it is)."""
    contact = await contact_of(session, customer)
    try:
        conversation = await conversations.get(session, customer.scope, conversation_id)
    except NotFound:
        conversation = None
    if (
        contact is None
        or conversation is None
        or conversation.contact_id != contact.id
        or conversation.channel_id != customer.channel.id
    ):
        raise NotFound("conversation not found")
    return conversation


def _out(conversation: Conversation, unread: int = 0) -> CustomerConversationOut:
    out = CustomerConversationOut.model_validate(conversation)
    out.last_read_id = conversation.contact_last_read_id
    out.unread = unread
    return out


async def list_conversations(
    session: AsyncSession, customer: Customer, *, limit: int, cursor: str | None
) -> tuple[list[CustomerConversationOut], str | None]:
    """Newest first; the cursor is the last id of the page."""
    contact = await contact_of(session, customer)
    if contact is None:
        return [], None
    try:
        before = int(cursor) if cursor else None
    except ValueError:
        raise Unprocessable("cursor: not a cursor from this API") from None
    rows = await conversations.for_contact(
        session,
        customer.scope,
        contact.id,
        channel_id=customer.channel.id,
        limit=limit + 1,
        before=before,
    )
    page, more = rows[:limit], len(rows) > limit
    unread = await messages.unread_counts(
        session, customer.scope, {c.id: c.contact_last_read_id or 0 for c in page}
    )
    items = [_out(c, unread.get(c.id, 0)) for c in page]
    return items, (str(page[-1].id) if more and page else None)


async def get_conversation(
    session: AsyncSession, customer: Customer, conversation_id: int
) -> CustomerConversationOut:
    conversation = await own_conversation(session, customer, conversation_id)
    unread = await messages.unread_counts(
        session, customer.scope, {conversation.id: conversation.contact_last_read_id or 0}
    )
    return _out(conversation, unread.get(conversation.id, 0))


async def read_messages(
    session: AsyncSession,
    customer: Customer,
    conversation_id: int,
    *,
    after: int | None,
    limit: int,
) -> CustomerMessagePage:
    """What the customer sees (no internal notes, no AI drafts): after the cursor, in
    order; without one, the latest ``limit``. ``next_cursor`` continues from the last."""
    conversation = await own_conversation(session, customer, conversation_id)
    rows = await messages.visible_messages(
        session, customer.scope, conversation.id, after_id=after, limit=limit
    )
    items = [CustomerMessageOut.model_validate(m) for m in rows]
    last = items[-1].id if items else after
    return CustomerMessagePage(items=items, next_cursor=last)


async def mark_read(
    session: AsyncSession, customer: Customer, conversation_id: int, message_id: int | None
) -> CustomerConversationOut:
    conversation = await own_conversation(session, customer, conversation_id)
    newest = await messages.last_visible_id(session, customer.scope, conversation.id)
    mark = newest if message_id is None else min(message_id, newest or 0)
    if mark and mark > (conversation.contact_last_read_id or 0):
        conversation.contact_last_read_id = mark
        await session.flush()
    return await get_conversation(session, customer, conversation_id)


async def rate(
    session: AsyncSession,
    customer: Customer,
    conversation_id: int,
    rating: int,
    comment: str | None,
) -> CustomerConversationOut:
    conversation = await own_conversation(session, customer, conversation_id)
    await conversations.rate(session, customer.scope, conversation.id, rating, comment)
    return await get_conversation(session, customer, conversation_id)


async def send(
    db: Database,
    customer: Customer,
    text: str,
    client_id: str,
    *,
    conversation_id: int | None,
    limits: InboundLimits | None = None,
) -> SentOut:
    """A customer's message, stored like a widget message (same contact, same channel,
    the AI or the operator answers as usual): into ``conversation_id`` (reopened if it was
    resolved), or into a new conversation when ``None``."""
    refs: tuple[str, ...] = ()
    for attempt in (1, 2):
        try:
            async with db.transaction() as session:
                if conversation_id is not None:
                    conversation = await own_conversation(session, customer, conversation_id)
                    ref = await messages.customer_thread_ref(
                        session, customer.scope, conversation.id
                    )
                    if ref is None:
                        raise NotFound("conversation not found")
                    refs = (ref,)
                else:
                    await ensure_contact(session, customer, ProfileIn())
            break
        except IntegrityError:  # the customer's first contact, made twice at once
            if attempt == 2:
                raise
    client = client_id or uuid.uuid4().hex
    inbound = InboundMessage(
        external_id=f"{customer.visitor_id}:api:{client}",
        contact=InboundContact(external_id=customer.external_id),
        text=text,
        thread_refs=refs,
        new_thread_if_unmatched=conversation_id is None,
        meta={"client_id": client, "via": "customer_api"},
    )
    result = await conversation_flows.ingest(
        db,
        customer.scope,
        customer.channel.id,
        ChannelType.WEB.value,
        inbound,
        limits=limits,
        over_limit=OverLimit.REFUSE,
    )
    return SentOut(
        conversation_id=result.conversation_id,
        message_id=result.message_id,
        duplicate=result.duplicate,
    )
