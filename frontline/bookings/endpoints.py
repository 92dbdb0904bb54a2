"""Bookings API: condition templates, resources with departures and blocked periods,
bookings (list with filters, detail, create, edit, confirm, reject with a reason, cancel)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from frontline.auth.deps import Admin, Operator
from frontline.bookings import customer, flows, schedule, service
from frontline.bookings.schemas import (
    AwareDatetime,
    BlockIn,
    BlockOut,
    BookingIn,
    BookingOut,
    BookingPatch,
    BookingSettings,
    ContactBookingsOut,
    DepartureIn,
    DepartureOut,
    RejectIn,
    ResourceIn,
    ResourceOut,
    ResourcePatch,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)
from frontline.deps import Session
from frontline.kit.params import BIGINT_MAX, OptionalQueryId, PathId
from frontline.models import BookingStatus

router = APIRouter(tags=["bookings"])


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


# --- templates --------------------------------------------------------------------------


@router.get("/booking-templates", response_model=list[TemplateOut])
async def list_templates(subject: Operator, session: Session) -> list[TemplateOut]:
    rows = await service.list_templates(session, subject.scope)
    return [TemplateOut.model_validate(t) for t in rows]


@router.post("/booking-templates", response_model=TemplateOut, status_code=status.HTTP_201_CREATED)
async def create_template(body: TemplateIn, subject: Admin, session: Session) -> TemplateOut:
    return TemplateOut.model_validate(await service.create_template(session, subject.scope, body))


@router.get("/booking-templates/{template_id}", response_model=TemplateOut)
async def get_template(template_id: uuid.UUID, subject: Operator, session: Session) -> TemplateOut:
    return TemplateOut.model_validate(
        await service.get_template(session, subject.scope, template_id)
    )


@router.patch("/booking-templates/{template_id}", response_model=TemplateOut)
async def update_template(
    template_id: uuid.UUID, body: TemplatePatch, subject: Admin, session: Session
) -> TemplateOut:
    template = await service.update_template(session, subject.scope, template_id, body)
    return TemplateOut.model_validate(template)


@router.delete("/booking-templates/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_template(template_id: uuid.UUID, subject: Admin, session: Session) -> None:
    await service.delete_template(session, subject.scope, template_id)


# --- resources --------------------------------------------------------------------------


@router.get("/resources", response_model=list[ResourceOut])
async def list_resources(subject: Operator, session: Session) -> list[ResourceOut]:
    return [
        ResourceOut.model_validate(r) for r in await service.list_resources(session, subject.scope)
    ]


@router.post("/resources", response_model=ResourceOut, status_code=status.HTTP_201_CREATED)
async def create_resource(body: ResourceIn, subject: Admin, session: Session) -> ResourceOut:
    return ResourceOut.model_validate(await service.create_resource(session, subject.scope, body))


@router.get("/resources/{resource_id}", response_model=ResourceOut)
async def get_resource(resource_id: uuid.UUID, subject: Operator, session: Session) -> ResourceOut:
    return ResourceOut.model_validate(
        await service.get_resource(session, subject.scope, resource_id)
    )


@router.get("/resources/{resource_id}/conditions")
async def get_conditions(
    resource_id: uuid.UUID, subject: Operator, session: Session
) -> dict[str, Any]:
    """The resource's effective conditions (template fields overridden by the resource's)."""
    resource = await service.get_resource(session, subject.scope, resource_id)
    conditions = await service.conditions_of(session, subject.scope, resource)
    return {**conditions, "notes": resource.notes}


@router.patch("/resources/{resource_id}", response_model=ResourceOut)
async def update_resource(
    resource_id: uuid.UUID, body: ResourcePatch, subject: Admin, session: Session
) -> ResourceOut:
    resource = await service.update_resource(session, subject.scope, resource_id, body)
    return ResourceOut.model_validate(resource)


@router.delete("/resources/{resource_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_resource(resource_id: uuid.UUID, subject: Admin, session: Session) -> None:
    await service.delete_resource(session, subject.scope, resource_id)


@router.get("/resources/{resource_id}/departures", response_model=list[DepartureOut])
async def list_departures(
    resource_id: uuid.UUID,
    subject: Operator,
    session: Session,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> list[DepartureOut]:
    return await schedule.list_departures(session, subject.scope, resource_id, start=start, end=end)


@router.post(
    "/resources/{resource_id}/departures",
    response_model=DepartureOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_departure(
    resource_id: uuid.UUID, body: DepartureIn, subject: Admin, session: Session
) -> DepartureOut:
    return await schedule.add_departure(session, subject.scope, resource_id, body)


@router.delete(
    "/resources/{resource_id}/departures/{departure_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_departure(
    resource_id: uuid.UUID, departure_id: uuid.UUID, subject: Admin, session: Session
) -> None:
    await schedule.delete_departure(session, subject.scope, resource_id, departure_id)


@router.get("/resources/{resource_id}/blocks", response_model=list[BlockOut])
async def list_blocks(
    resource_id: uuid.UUID, subject: Operator, session: Session
) -> list[BlockOut]:
    rows = await schedule.list_blocks(session, subject.scope, resource_id)
    return [BlockOut.model_validate(b) for b in rows]


@router.post(
    "/resources/{resource_id}/blocks", response_model=BlockOut, status_code=status.HTTP_201_CREATED
)
async def add_block(
    resource_id: uuid.UUID, body: BlockIn, subject: Admin, session: Session
) -> BlockOut:
    return BlockOut.model_validate(
        await schedule.add_block(session, subject.scope, resource_id, body)
    )


@router.delete("/resources/{resource_id}/blocks/{block_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_block(
    resource_id: uuid.UUID, block_id: uuid.UUID, subject: Admin, session: Session
) -> None:
    await schedule.delete_block(session, subject.scope, resource_id, block_id)


# --- bookings ---------------------------------------------------------------------------


@router.get("/bookings", response_model=BookingPage)
async def list_bookings(
    subject: Operator,
    session: Session,
    status_: Annotated[BookingStatus | None, Query(alias="status")] = None,
    resource_id: uuid.UUID | None = None,
    conversation_id: OptionalQueryId = None,
    contact_id: uuid.UUID | None = None,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    cursor: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> BookingPage:
    """Newest first; ``start``/``end`` keep bookings overlapping that period; ``cursor`` is
    the ``next_cursor`` of the previous page."""
    rows = await service.search_bookings(
        session,
        subject.scope,
        status=status_.value if status_ else None,
        resource_id=resource_id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        start=start,
        end=end,
        before_id=cursor,
        limit=limit,
    )
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return BookingPage(items=[BookingOut.model_validate(b) for b in rows], next_cursor=next_cursor)


@router.get(
    "/contacts/{contact_id}/bookings",
    response_model=ContactBookingsOut,
    responses={404: {"description": "not the tenant's contact (code `not_found`)"}},
)
async def contact_bookings(
    contact_id: uuid.UUID, subject: Operator, session: Session
) -> ContactBookingsOut:
    """The contact's upcoming bookings (soonest first) and recent ones (latest first), for
    the profile beside the conversation."""
    return await customer.contact_bookings(session, subject.scope, contact_id)


@router.post("/bookings", response_model=BookingOut, status_code=status.HTTP_201_CREATED)
async def create_booking(body: BookingIn, subject: Operator, session: Session) -> BookingOut:
    return BookingOut.model_validate(
        await flows.create_for_conversation(session, subject.scope, body)
    )


@router.get("/bookings/{booking_id}", response_model=BookingOut)
async def get_booking(booking_id: PathId, subject: Operator, session: Session) -> BookingOut:
    return BookingOut.model_validate(await service.get_booking(session, subject.scope, booking_id))


@router.patch("/bookings/{booking_id}", response_model=BookingOut)
async def edit_booking(
    booking_id: PathId, body: BookingPatch, subject: Operator, session: Session
) -> BookingOut:
    return BookingOut.model_validate(await service.edit(session, subject.scope, booking_id, body))


@router.post("/bookings/{booking_id}/confirm", response_model=BookingOut)
async def confirm_booking(booking_id: PathId, subject: Operator, session: Session) -> BookingOut:
    booking = await flows.confirm(session, subject.scope, booking_id, subject.user_id)
    return BookingOut.model_validate(booking)


@router.post("/bookings/{booking_id}/reject", response_model=BookingOut)
async def reject_booking(
    booking_id: PathId, body: RejectIn, subject: Operator, session: Session
) -> BookingOut:
    booking = await flows.reject(session, subject.scope, booking_id, body.reason, subject.user_id)
    return BookingOut.model_validate(booking)


@router.post("/bookings/{booking_id}/cancel", response_model=BookingOut)
async def cancel_booking(booking_id: PathId, subject: Operator, session: Session) -> BookingOut:
    booking = await service.cancel(session, subject.scope, booking_id, subject.user_id)
    return BookingOut.model_validate(booking)


@router.get("/availability")
async def availability(
    subject: Operator,
    session: Session,
    start: AwareDatetime,
    end: AwareDatetime,
    guests: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> dict[str, list[dict[str, object]]]:
    """Rentals free for the whole of ``[start, end)`` and tour departures starting in it
    with at least ``guests`` free places."""
    return await schedule.search_availability(session, subject.scope, start, end, guests)


@router.get("/booking-settings", response_model=BookingSettings)
async def get_settings(subject: Operator, session: Session) -> BookingSettings:
    return BookingSettings(hold_hours=await service.hold_hours(session, subject.scope))


@router.put("/booking-settings", response_model=BookingSettings)
async def put_settings(body: BookingSettings, subject: Admin, session: Session) -> BookingSettings:
    await service.set_hold_hours(session, subject.scope, body.hold_hours)
    return body
