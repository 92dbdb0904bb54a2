"""HTTP: the customer API (``/api/v1/customer/...``) for host applications.

Authenticated by ``Authorization: Bearer <customer token>`` (see
:mod:`frontline.customers.tokens`). A customer reaches only their own conversations on the
token's channel; anything else is 404, whoever it belongs to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.customers import service, tokens
from frontline.customers.schemas import (
    CsatIn,
    CustomerConversationOut,
    CustomerConversationPage,
    CustomerMessageIn,
    CustomerMessagePage,
    ProfileIn,
    ProfileOut,
    ReadIn,
    SentOut,
)
from frontline.customers.service import Customer
from frontline.deps import ServicesDep, Session
from frontline.errors import NotFound, Unauthorized
from frontline.kit.params import BIGINT_MAX, PathId

router = APIRouter(prefix="/customer", tags=["customer"])

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, invalid or expired customer token (code `unauthorized`)"},
    404: {"description": "not one of the customer's conversations (code `not_found`)"},
}


async def current_customer(request: Request, services: ServicesDep) -> Customer:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a customer token is required (Authorization: Bearer ...)")
    token = token.strip()
    channel_id = tokens.channel_of(token)
    try:
        channel = await channels.runtime_for_webhook(
            services.db.sessionmaker,
            services.secret_box,
            channel_id,
            ChannelType.WEB,
            services.channel_cache,
        )
    except NotFound:
        raise Unauthorized("the token's widget key names no web channel") from None
    if not channel.is_active:
        raise Unauthorized("the channel is disabled")
    claims = tokens.verify(token, channel.id, channel.secret)
    return Customer(channel=channel, user_id=claims.user_id)


CustomerDep = Annotated[Customer, Depends(current_customer)]


@router.get("/profile", response_model=ProfileOut, responses=_AUTH)
async def get_profile(customer: CustomerDep, session: Session) -> ProfileOut:
    return service.profile_out(customer, await service.contact_of(session, customer))


@router.patch("/profile", response_model=ProfileOut, responses=_AUTH)
async def update_profile(customer: CustomerDep, body: ProfileIn, session: Session) -> ProfileOut:
    """Name, e-mail, phone and typed attributes (422 naming the field on a wrong type)."""
    contact = await service.ensure_contact(session, customer, body)
    return service.profile_out(customer, contact)


@router.get("/conversations", response_model=CustomerConversationPage, responses=_AUTH)
async def list_conversations(
    customer: CustomerDep,
    session: Session,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CustomerConversationPage:
    """The customer's conversations, newest first, with their unread counts."""
    items, next_cursor = await service.list_conversations(
        session, customer, limit=limit, cursor=cursor
    )
    return CustomerConversationPage(items=items, next_cursor=next_cursor)


@router.post(
    "/conversations",
    response_model=SentOut,
    status_code=status.HTTP_201_CREATED,
    responses=_AUTH,
)
async def open_conversation(
    customer: CustomerDep, body: CustomerMessageIn, services: ServicesDep
) -> SentOut:
    """A new conversation with the customer's first message."""
    return await service.send(
        services.db,
        customer,
        body.text.strip(),
        body.client_id,
        conversation_id=None,
        limits=services.inbound_limits,
    )


@router.get(
    "/conversations/{conversation_id}", response_model=CustomerConversationOut, responses=_AUTH
)
async def get_conversation(
    conversation_id: PathId, customer: CustomerDep, session: Session
) -> CustomerConversationOut:
    return await service.get_conversation(session, customer, conversation_id)


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=CustomerMessagePage,
    responses=_AUTH,
)
async def read_messages(
    conversation_id: PathId,
    customer: CustomerDep,
    session: Session,
    after: Annotated[
        int | None, Query(ge=0, le=BIGINT_MAX, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerMessagePage:
    return await service.read_messages(session, customer, conversation_id, after=after, limit=limit)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=SentOut,
    status_code=status.HTTP_201_CREATED,
    responses=_AUTH,
)
async def send_message(
    conversation_id: PathId, customer: CustomerDep, body: CustomerMessageIn, services: ServicesDep
) -> SentOut:
    """The customer writes (a resolved conversation reopens); the AI or an operator answers
    as on the widget."""
    return await service.send(
        services.db,
        customer,
        body.text.strip(),
        body.client_id,
        conversation_id=conversation_id,
        limits=services.inbound_limits,
    )


@router.post(
    "/conversations/{conversation_id}/read",
    response_model=CustomerConversationOut,
    responses=_AUTH,
)
async def mark_read(
    conversation_id: PathId, customer: CustomerDep, session: Session, body: ReadIn | None = None
) -> CustomerConversationOut:
    return await service.mark_read(
        session, customer, conversation_id, body.message_id if body else None
    )


@router.post(
    "/conversations/{conversation_id}/csat",
    response_model=CustomerConversationOut,
    responses={**_AUTH, 409: {"description": "not resolved yet (code `conflict`)"}},
)
async def rate(
    conversation_id: PathId, customer: CustomerDep, body: CsatIn, session: Session
) -> CustomerConversationOut:
    return await service.rate(session, customer, conversation_id, body.rating, body.comment)
