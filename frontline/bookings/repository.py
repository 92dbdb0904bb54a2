"""All SQL of the bookings domain, tenant-scoped.

What holds a place: a confirmed booking, or a pending one whose hold has not run out yet
(``hold_until > now``) - so an expired hold frees its place at once, even before the expiry
job has marked it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, cast, exists, func, or_, select, update

from frontline.kit.repository import TenantRepository
from frontline.models import (
    Availability,
    BlockedPeriod,
    Booking,
    BookingStatus,
    ConditionTemplate,
    Conversation,
    Departure,
    Resource,
)


def holds_place(now: datetime) -> ColumnElement[bool]:
    return or_(
        Booking.status == BookingStatus.CONFIRMED.value,
        and_(Booking.status == BookingStatus.PENDING.value, Booking.hold_until > now),
    )


# the longest period a rental booking may span (bounds the overlap searches)
MAX_PERIOD = timedelta(days=62)
FreeUnits = list[tuple[Resource, int]]  # (rental, its free units)


class TemplateRepository(TenantRepository[ConditionTemplate]):
    model = ConditionTemplate

    async def list(self) -> list[ConditionTemplate]:
        stmt = self.select().order_by(ConditionTemplate.name)
        return list((await self.session.execute(stmt)).scalars())

    async def by_name(self, name: str) -> ConditionTemplate | None:
        return await self.one_or_none(self.select().where(ConditionTemplate.name == name))


class ResourceRepository(TenantRepository[Resource]):
    model = Resource

    async def list(
        self, *, active_only: bool = False, availability: str | None = None
    ) -> list[Resource]:
        stmt = self.select().order_by(Resource.name)
        if active_only:
            stmt = stmt.where(Resource.active.is_(True))
        if availability is not None:
            stmt = stmt.where(Resource.availability == availability)
        return list((await self.session.execute(stmt)).scalars())

    async def by_name(self, name: str) -> Resource | None:
        return await self.one_or_none(self.select().where(Resource.name == name))

    async def free_units(
        self, start: datetime, end: datetime, now: datetime, guests: int, limit: int = 100
    ) -> FreeUnits:
        """Active rentals that take ``guests`` and have a unit free for all of
        ``[start, end)`` (not blocked), with how many units are free; one query. A period
        is at most :data:`MAX_PERIOD` long, so only bookings starting after
        ``start - MAX_PERIOD`` can overlap: an index range of the tenant's bookings."""
        taken = (
            select(Booking.resource_id, func.count().label("n"))
            .where(
                Booking.tenant_id == self.scope.tenant_id,
                Booking.starts_at > start - MAX_PERIOD,
                Booking.starts_at < end,
                Booking.ends_at > start,
                holds_place(now),
            )
            .group_by(Booking.resource_id)
            .subquery()
        )
        count = func.coalesce(taken.c.n, 0)
        blocked = exists().where(
            BlockedPeriod.resource_id == Resource.id,
            BlockedPeriod.starts_at < end,
            BlockedPeriod.ends_at > start,
        )
        stmt = (
            self.select(Resource, Resource.units - count)
            .outerjoin(taken, taken.c.resource_id == Resource.id)
            .where(
                Resource.active.is_(True),
                Resource.availability != Availability.DEPARTURES.value,
                Resource.capacity >= guests,
                ~blocked,
                count < Resource.units,
            )
            .order_by(Resource.name)
            .limit(limit)
        )
        return [(r, int(free)) for r, free in (await self.session.execute(stmt)).all()]

    async def get_for_update(self, resource_id: uuid.UUID) -> Resource | None:
        """The resource row, locked until the transaction ends (PostgreSQL; on SQLite the
        transaction already holds the database's write lock: ``BEGIN IMMEDIATE``)."""
        stmt = self.select().where(Resource.id == resource_id).with_for_update()
        return await self.one_or_none(stmt)


class DepartureRepository(TenantRepository[Departure]):
    model = Departure

    async def get_for_update(self, departure_id: uuid.UUID) -> Departure | None:
        stmt = self.select().where(Departure.id == departure_id).with_for_update()
        return await self.one_or_none(stmt)

    async def with_held(
        self,
        now: datetime,
        *,
        resource_ids: list[uuid.UUID] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 500,
    ) -> list[tuple[Departure, int]]:
        """Departures (in start order) with the places their holding bookings take."""
        held = (
            select(func.coalesce(func.sum(Booking.adults + Booking.children), 0))
            .where(Booking.departure_id == Departure.id, holds_place(now))
            .scalar_subquery()
        )
        stmt = self.select(Departure, held).order_by(Departure.starts_at).limit(limit)
        if resource_ids is not None:
            stmt = stmt.where(Departure.resource_id.in_(resource_ids))
        if start is not None:
            stmt = stmt.where(Departure.starts_at >= start)
        if end is not None:
            stmt = stmt.where(Departure.starts_at < end)
        return [(d, int(h)) for d, h in (await self.session.execute(stmt)).all()]


class BlockRepository(TenantRepository[BlockedPeriod]):
    model = BlockedPeriod

    async def list(self, resource_id: uuid.UUID) -> list[BlockedPeriod]:
        stmt = (
            self.select()
            .where(BlockedPeriod.resource_id == resource_id)
            .order_by(BlockedPeriod.starts_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def overlapping(
        self, resource_id: uuid.UUID, start: datetime, end: datetime
    ) -> BlockedPeriod | None:
        stmt = self.select().where(
            BlockedPeriod.resource_id == resource_id,
            BlockedPeriod.starts_at < end,
            BlockedPeriod.ends_at > start,
        )
        return await self.one_or_none(stmt.limit(1))


class BookingRepository(TenantRepository[Booking]):
    model = Booking

    async def get_for_update(self, booking_id: int) -> Booking | None:
        stmt = self.select().where(Booking.id == booking_id).with_for_update()
        return await self.one_or_none(stmt)

    async def held_on_departure(
        self, departure_id: uuid.UUID, now: datetime, exclude: int | None = None
    ) -> int:
        stmt = self.select(func.coalesce(func.sum(Booking.adults + Booking.children), 0)).where(
            Booking.departure_id == departure_id, holds_place(now)
        )
        if exclude is not None:
            stmt = stmt.where(Booking.id != exclude)
        return int((await self.session.execute(stmt)).scalar_one())

    async def holding_of_resource(self, resource_id: uuid.UUID, now: datetime) -> int:
        """How many bookings of the resource still hold places (confirmed, or pending within
        their hold)."""
        stmt = self.select(func.count()).where(Booking.resource_id == resource_id, holds_place(now))
        return int((await self.session.execute(stmt)).scalar_one())

    async def overlapping_held(
        self,
        resource_id: uuid.UUID,
        start: datetime,
        end: datetime,
        now: datetime,
        exclude: int | None = None,
    ) -> int:
        """How many holding bookings of the resource overlap ``[start, end)``."""
        stmt = self.select(func.count()).where(
            Booking.resource_id == resource_id,
            Booking.starts_at > start - MAX_PERIOD,
            Booking.starts_at < end,
            Booking.ends_at > start,
            holds_place(now),
        )
        if exclude is not None:
            stmt = stmt.where(Booking.id != exclude)
        return int((await self.session.execute(stmt)).scalar_one())

    async def search(
        self,
        *,
        status: str | None = None,
        resource_id: uuid.UUID | None = None,
        conversation_id: int | None = None,
        contact_id: uuid.UUID | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[Booking]:
        stmt = self.select().order_by(Booking.id.desc()).limit(limit)
        conditions: list[Any] = []
        if status is not None:
            conditions.append(Booking.status == status)
        if resource_id is not None:
            conditions.append(Booking.resource_id == resource_id)
        if conversation_id is not None:
            conditions.append(Booking.conversation_id == conversation_id)
        if contact_id is not None:
            conditions.append(Booking.contact_id == contact_id)
        if start is not None:
            conditions.append(Booking.ends_at > start)
        if end is not None:
            conditions.append(Booking.starts_at < end)
        if before_id is not None:
            conditions.append(Booking.id < before_id)
        if conditions:
            stmt = stmt.where(*conditions)
        return list((await self.session.execute(stmt)).scalars())

    async def move_contact(self, source: uuid.UUID, target: uuid.UUID) -> int:
        """Re-link a merged contact's bookings to the contact it was merged into."""
        stmt = (
            update(Booking)
            .where(Booking.tenant_id == self.scope.tenant_id, Booking.contact_id == source)
            .values(contact_id=target)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def of_contact(
        self, contact_id: uuid.UUID, now: datetime, limit: int
    ) -> tuple[list[Booking], list[Booking]]:
        """A contact's bookings: (upcoming: not yet ended, soonest first; recent: ended,
        latest first), at most ``limit`` of each."""
        mine = self.select().where(Booking.contact_id == contact_id)
        upcoming = mine.where(Booking.ends_at > now).order_by(Booking.starts_at, Booking.id)
        recent = mine.where(Booking.ends_at <= now).order_by(Booking.starts_at.desc())
        return (
            list((await self.session.execute(upcoming.limit(limit))).scalars()),
            list((await self.session.execute(recent.limit(limit))).scalars()),
        )

    async def in_period(
        self, resource_ids: list[uuid.UUID] | None, start: datetime, end: datetime, now: datetime
    ) -> list[Booking]:
        """Holding bookings overlapping ``[start, end)`` (calendar and iCalendar)."""
        stmt = (
            self.select()
            .where(Booking.starts_at < end, Booking.ends_at > start, holds_place(now))
            .order_by(Booking.starts_at)
        )
        if resource_ids is not None:
            stmt = stmt.where(Booking.resource_id.in_(resource_ids))
        return list((await self.session.execute(stmt)).scalars())

    async def created_by_day(
        self, start: datetime, end: datetime, channel_id: uuid.UUID | None
    ) -> list[tuple[str, int, int]]:
        """Bookings created in ``[start, end)`` per UTC day of creation: ``(YYYY-MM-DD,
        created, of those now confirmed)``, days without bookings left out. With
        ``channel_id``, only bookings made from a conversation on that channel."""
        if self.session.get_bind().dialect.name == "sqlite":
            day: ColumnElement[Any] = func.date(Booking.created_at)
        else:
            day = cast(func.timezone("UTC", Booking.created_at), Date)
        confirmed = case((Booking.status == BookingStatus.CONFIRMED.value, 1), else_=0)
        stmt = (
            self.select(day, func.count(), func.coalesce(func.sum(confirmed), 0))
            .where(Booking.created_at >= start, Booking.created_at < end)
            .group_by(day)
            .order_by(day)
        )
        if channel_id is not None:
            stmt = stmt.join(Conversation, Conversation.id == Booking.conversation_id).where(
                Conversation.tenant_id == self.scope.tenant_id,
                Conversation.channel_id == channel_id,
            )
        rows = (await self.session.execute(stmt)).all()
        return [(d if isinstance(d, str) else d.isoformat(), int(n), int(c)) for d, n, c in rows]


async def resource_by_ical_token(session: Any, token: str) -> Resource | None:
    """The resource whose calendar feed ``token`` opens (the token is the credential)."""
    stmt = select(Resource).where(Resource.ical_token == token)
    found: Resource | None = (await session.execute(stmt)).scalars().first()
    return found
