"""The UPDATE statements that move an outbound message's delivery state (built once each):
sent with the provider's id, moved between states, marked unknown after an interrupted send,
requeued by an operator, and a provider's delivery report that never moves a state back."""

from __future__ import annotations

import functools
from typing import cast

from sqlalchemy import ColumnElement, Table, Update, bindparam, case, func, or_, update

from frontline.models import Message, SenderType

# states a provider's delivery report sets; a send recorded after one never moves it back
REPORTED_STATES = ("delivered", "read", "failed")


def _messages() -> Table:
    return cast(Table, Message.__table__)


def _one_message(*conditions: ColumnElement[bool]) -> Update:
    """An UPDATE of the tenant's message ``:mid`` (bound ``tid`` and ``mid``), if ``conditions``."""
    messages = _messages()
    return update(messages).where(
        messages.c.tenant_id == bindparam("tid"), messages.c.id == bindparam("mid"), *conditions
    )


@functools.cache
def mark_sent_statement() -> Update:
    messages = _messages()
    return (
        _one_message()
        .values(
            # a delivery report that came before this (WhatsApp's ``statuses[]`` may
            # overtake the send's own commit) is never put back
            delivery_status=case(
                (messages.c.delivery_status.in_(REPORTED_STATES), messages.c.delivery_status),
                else_=bindparam("status"),
            ),
            failure_reason=case(
                (messages.c.delivery_status.in_(REPORTED_STATES), messages.c.failure_reason),
                else_=None,
            ),
            external_id=func.coalesce(messages.c.external_id, bindparam("ext")),
        )
        .returning(*messages.c)
    )


@functools.cache
def move_status_statement() -> Update:
    return _one_message(_messages().c.delivery_status == bindparam("before")).values(
        delivery_status=bindparam("after")
    )


@functools.cache
def mark_unknown_statement() -> Update:
    messages = _messages()
    return (
        _one_message(messages.c.delivery_status == "sending")
        .values(delivery_status="unknown", failure_reason=bindparam("reason"))
        .returning(*messages.c)
    )


@functools.cache
def requeue_unknown_statement() -> Update:
    messages = _messages()
    return (
        _one_message(messages.c.is_internal.is_(False), messages.c.delivery_status == "unknown")
        .values(delivery_status="queued", failure_reason=None)
        .returning(*messages.c)
    )


# states only a channel's delivery report sets (the send job never overwrites them)
@functools.cache
def report_statement() -> Update:
    """A channel's delivery report for one outbound message, named by its external id or
    (before that is recorded) by its own id; applied only over an earlier state."""
    messages = _messages()
    return (
        update(messages)
        .where(
            messages.c.tenant_id == bindparam("tid"),
            messages.c.channel_id == bindparam("cid"),
            messages.c.is_internal.is_(False),
            messages.c.sender_type.in_([SenderType.AI.value, SenderType.OPERATOR.value]),
            or_(messages.c.external_id == bindparam("ext"), messages.c.id == bindparam("mid")),
            messages.c.delivery_status.in_(bindparam("earlier", expanding=True)),
        )
        .values(
            delivery_status=bindparam("status"),
            failure_reason=bindparam("reason"),
            external_id=func.coalesce(messages.c.external_id, bindparam("ext")),
        )
        .returning(*messages.c)
    )
