"""Schedules: the dated departures of tours (with the places left on each) and the
blocked periods of resources."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.bookings.repository import (
    BlockRepository,
    BookingRepository,
    DepartureRepository,
    ResourceRepository,
)
from frontline.bookings.schemas import BlockIn, DepartureIn, DepartureOut
from frontline.bookings.service import get_resource, invalid
from frontline.errors import Conflict, NotFound
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Availability, BlockedPeriod, Departure, Resource

# --- departures and blocked periods -----------------------------------------------------


def departure_out(departure: Departure, resource: Resource, held: int) -> DepartureOut:
    capacity = departure.capacity or resource.capacity
    return DepartureOut(
        id=departure.id,
        resource_id=departure.resource_id,
        starts_at=departure.starts_at,
        ends_at=departure.ends_at,
        capacity=capacity,
        price=departure.price if departure.price is not None else resource.price,
        free_places=max(0, capacity - held),
    )


async def list_departures(
    session: AsyncSession,
    scope: TenantScope,
    resource_id: uuid.UUID,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[DepartureOut]:
    resource = await get_resource(session, scope, resource_id)
    rows = await DepartureRepository(session, scope).with_held(
        utcnow(), resource_ids=[resource.id], start=start, end=end
    )
    return [departure_out(d, resource, held) for d, held in rows]


async def add_departure(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID, body: DepartureIn
) -> DepartureOut:
    resource = await get_resource(session, scope, resource_id)
    if resource.availability != Availability.DEPARTURES.value:
        raise invalid("this resource is booked by period, not by departures")
    if body.starts_at <= utcnow():
        raise invalid("the departure is in the past: nobody could book it")
    repo = DepartureRepository(session, scope)
    exists = await repo.one_or_none(
        repo.select().where(
            Departure.resource_id == resource.id, Departure.starts_at == body.starts_at
        )
    )
    if exists is not None:
        raise Conflict("a departure at this time already exists", code="duplicate_departure")
    departure = repo.add(
        Departure(
            resource_id=resource.id,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            capacity=body.capacity,
            price=body.price,
        )
    )
    await session.flush()
    return departure_out(departure, resource, 0)


async def delete_departure(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID, departure_id: uuid.UUID
) -> None:
    departure = await DepartureRepository(session, scope).get(departure_id)
    if departure is None or departure.resource_id != resource_id:
        raise NotFound("departure not found")
    held = await BookingRepository(session, scope).held_on_departure(departure.id, utcnow())
    if held:
        raise Conflict("the departure has bookings; reject or cancel them first", code="in_use")
    await session.delete(departure)
    await session.flush()


async def list_blocks(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID
) -> list[BlockedPeriod]:
    await get_resource(session, scope, resource_id)
    return await BlockRepository(session, scope).list(resource_id)


async def add_block(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID, body: BlockIn
) -> BlockedPeriod:
    resource = await get_resource(session, scope, resource_id)
    block = BlockRepository(session, scope).add(
        BlockedPeriod(
            resource_id=resource.id,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            reason=body.reason,
        )
    )
    await session.flush()
    return block


async def delete_block(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID, block_id: uuid.UUID
) -> None:
    block = await BlockRepository(session, scope).get(block_id)
    if block is None or block.resource_id != resource_id:
        raise NotFound("blocked period not found")
    await session.delete(block)
    await session.flush()


async def search_availability(
    session: AsyncSession, scope: TenantScope, start: datetime, end: datetime, guests: int
) -> dict[str, list[dict[str, object]]]:
    """What can be booked for ``guests`` in ``[start, end)``: rentals with a free unit for
    the whole period, and tour departures starting in it with enough free places."""
    if end <= start:
        raise invalid("end must be after start")
    now = utcnow()
    rentals = await ResourceRepository(session, scope).free_units(start, end, now, guests)
    repo = ResourceRepository(session, scope)
    listed = await repo.list(active_only=True, availability=Availability.DEPARTURES.value)
    resources = {r.id: r for r in listed}
    tours = list(resources)
    rows = await DepartureRepository(session, scope).with_held(
        now, resource_ids=tours, start=max(start, now), end=end
    )
    departures = [departure_out(d, resources[d.resource_id], held) for d, held in rows]
    return {
        "rentals": [
            {"resource_id": str(r.id), "name": r.name, "free_units": free} for r, free in rentals
        ],
        "departures": [
            d.model_dump(mode="json") | {"name": resources[d.resource_id].name}
            for d in departures
            if d.free_places >= guests
        ],
    }
