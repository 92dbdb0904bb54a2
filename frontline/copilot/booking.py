"""The copilot's "create a booking from this chat": the booking request read from the
conversation by the bookings domain's own extraction (:func:`frontline.bookings.assistant.
read_slots`, the rules the AI's booking turn uses, with a remote model's validated reading
filling what the rules miss), returned as a pre-filled form. The operator checks it and saves
it through the ordinary bookings API; nothing is booked here.

As everywhere in the copilot, no connection is held while the model reads: the resources are
read first, the chain runs, and the draft is resolved (departure on the date) afterwards."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.base import ChatMessage
from frontline.bookings import assistant
from frontline.bookings import proposal as reading
from frontline.bookings import service as bookings
from frontline.copilot.schemas import BookingDraftOut
from frontline.copilot.service import Context, Outcome, Rows, complete, log_rows, produced
from frontline.errors import Conflict
from frontline.kit.time import utcnow
from frontline.models import Availability, SenderType


class NoResources(Conflict):
    code = "no_bookable_resources"


async def resource_names(session: AsyncSession, ctx: Context) -> list[str]:
    """The tenant's bookable resources (409 when there are none)."""
    names = [r.name for r in await bookings.list_resources(session, ctx.scope, active_only=True)]
    if not names:
        raise NoResources("nothing is bookable yet: add a resource on the bookings page first")
    return names


def _said(ctx: Context) -> list[str]:
    return [t.text for t in ctx.turns if t.sender_type == SenderType.CONTACT.value]


async def read(ctx: Context, names: list[str]) -> Outcome:
    """A remote model's structured reading of the request (none without a remote model)."""
    system, user = reading.prompt(_said(ctx), utcnow().date(), names)
    chat = (ChatMessage("system", system), ChatMessage("user", user))
    return await complete(ctx, chat, reading.SCHEMA, "booking_request")


async def draft(
    session: AsyncSession, ctx: Context, outcome: Outcome
) -> tuple[BookingDraftOut, Rows]:
    """The pre-filled booking and the AI log rows of the reading."""
    resources = await bookings.list_resources(session, ctx.scope, active_only=True)
    if not resources:
        raise NoResources("nothing is bookable any more: add a resource first")
    names = [r.name for r in resources]
    model = (
        reading.validate(outcome.completion.text, utcnow().date(), names)
        if outcome.completion is not None
        else None
    )
    history = [(t.sender_type, t.text) for t in ctx.turns]
    resource = assistant.match_resource(_said(ctx), resources, model)
    fields: dict[str, Any] = {}
    missing: list[str] = ["resource"]
    if resource is not None:
        found, missing = assistant.read_slots(resource, history, model)
        fields = {
            "resource_id": resource.id,
            "resource_name": resource.name,
            "availability": resource.availability,
            "adults": found.value("people"),
            "customer_name": found.value("name"),
            "customer_phone": found.value("phone"),
            "customer_email": found.value("email"),
        }
        day, last = found.value("date"), found.value("end_date")
        if resource.availability == Availability.DEPARTURES.value:
            departure = (
                await assistant.departure_on(session, ctx.scope, resource, day) if day else None
            )
            if departure is not None:
                fields.update(
                    departure_id=departure.id,
                    starts_at=departure.starts_at,
                    ends_at=departure.ends_at,
                )
            elif day is not None:
                missing.append("departure")
        elif day is not None and last is not None:
            fields["starts_at"], fields["ends_at"] = assistant.stay(resource, day, last)
    read_by_rules = None if outcome.completion is not None else json.dumps(_loggable(fields))
    rows = log_rows(ctx, "booking", outcome, offline_answer=read_by_rules)
    out = BookingDraftOut(
        conversation_id=ctx.conversation_id,
        locale=ctx.language,
        missing=missing,
        **fields,
        **produced(ctx, outcome),
    )
    return out, rows


def _loggable(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime) else v if isinstance(v, (int, str)) else str(v)
        for k, v in fields.items()
        if v is not None
    }
