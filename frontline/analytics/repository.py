"""Every analytics query. Each one is scoped to the tenant and to conversations started in
``[start, end)`` (optionally on one channel), and is a single statement whose aggregates run
in the database; percentiles are nearest-rank over window functions, which SQLite and
PostgreSQL both have."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from frontline.analytics import sql
from frontline.conversations.reasons import PREFIXES, ReasonCode
from frontline.kit.repository import TenantScope
from frontline.models import AiCall, Category, Conversation, ConversationStatus, Message

# a CSAT rating below this is negative (1-5 scale)
NEGATIVE_CSAT_BELOW = 3


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime  # exclusive
    channel_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Spread:
    """Seconds: nearest-rank median and 90th percentile over ``count`` values."""

    count: int
    median: float | None
    p90: float | None


class AnalyticsRepository:
    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope
        self.dialect = session.get_bind().dialect.name

    def _conversations(self, window: Window) -> list[ColumnElement[bool]]:
        c = Conversation
        where = [
            c.tenant_id == self.scope.tenant_id,
            c.created_at >= window.start,
            c.created_at < window.end,
        ]
        if window.channel_id is not None:
            where.append(c.channel_id == window.channel_id)
        return where

    def _operator_replied(self) -> ColumnElement[bool]:
        return (
            select(Message.id)
            .where(
                Message.conversation_id == Conversation.id,
                Message.tenant_id == self.scope.tenant_id,
                Message.sender_type == "operator",
                Message.is_internal.is_(False),
            )
            .exists()
        )

    def strict_ai_resolved(self) -> ColumnElement[bool]:
        """Resolved by the AI alone: resolved, never handed to a person, no operator
        message, not reopened within 72 h of being resolved, CSAT not negative."""
        c = Conversation
        return and_(
            c.status == ConversationStatus.RESOLVED.value,
            c.handed_off_at.is_(None),
            c.reopened_soon.is_(False),
            or_(c.csat_rating.is_(None), c.csat_rating >= NEGATIVE_CSAT_BELOW),
            ~self._operator_replied(),
        )

    async def totals(self, window: Window) -> dict[str, Any]:
        c = Conversation
        stmt = select(
            func.count(),
            func.count(c.resolved_at),
            func.sum(case((self.strict_ai_resolved(), 1), else_=0)),
            func.count(c.handed_off_at),
            func.avg(c.csat_rating),
            func.count(c.csat_rating),
        ).where(*self._conversations(window))
        row = (await self.session.execute(stmt)).one()
        return {
            "conversations": int(row[0]),
            "resolved": int(row[1]),
            "ai_resolved": int(row[2] or 0),
            "handed_off": int(row[3]),
            "csat_average": float(row[4]) if row[4] is not None else None,
            "csat_count": int(row[5]),
        }

    async def _spread(self, values: Select[Any]) -> Spread:
        d = values.subquery("d")
        ranked = select(
            d.c.x,
            func.row_number().over(order_by=d.c.x).label("rn"),
            func.count().over().label("n"),
        ).subquery("ranked")
        stmt = select(
            func.count(),
            func.min(case((ranked.c.rn * 100 >= ranked.c.n * 50, ranked.c.x))),
            func.min(case((ranked.c.rn * 100 >= ranked.c.n * 90, ranked.c.x))),
        )
        row = (await self.session.execute(stmt.select_from(ranked))).one()
        return Spread(
            count=int(row[0]),
            median=round(float(row[1]), 1) if row[1] is not None else None,
            p90=round(float(row[2]), 1) if row[2] is not None else None,
        )

    def _first(self, sender: str, after: Any) -> ScalarSelect[Any]:
        """Per conversation in the window: seconds from ``after`` to the first visible
        message from ``sender`` at or after it."""
        m = Message
        return (
            select(func.min(m.created_at))
            .where(
                m.conversation_id == Conversation.id,
                m.tenant_id == self.scope.tenant_id,
                m.sender_type == sender,
                m.is_internal.is_(False),
                m.created_at >= after,
            )
            .correlate(Conversation)
            .scalar_subquery()
        )

    async def response_times(self, window: Window) -> dict[str, Spread]:
        c = Conversation
        first_contact = (
            select(func.min(Message.created_at))
            .where(
                Message.conversation_id == c.id,
                Message.tenant_id == self.scope.tenant_id,
                Message.sender_type == "contact",
            )
            .correlate(c)
            .scalar_subquery()
        )
        ai_first = self._first("ai", c.created_at)
        ai_values = (
            select(sql.seconds_between(self.dialect, ai_first, first_contact).label("x"))
            .where(*self._conversations(window))
            .where(ai_first.is_not(None), first_contact.is_not(None))
        )
        operator_first = self._first("operator", c.handed_off_at)
        operator_values = (
            select(sql.seconds_between(self.dialect, operator_first, c.handed_off_at).label("x"))
            .where(*self._conversations(window))
            .where(c.handed_off_at.is_not(None), operator_first.is_not(None))
        )
        resolution_values = (
            select(sql.seconds_between(self.dialect, c.resolved_at, c.created_at).label("x"))
            .where(*self._conversations(window))
            .where(c.resolved_at.is_not(None))
        )
        return {
            "ai_first_response": await self._spread(ai_values),
            "operator_first_response": await self._spread(operator_values),
            "resolution": await self._spread(resolution_values),
        }

    async def timeline(self, window: Window) -> list[dict[str, Any]]:
        c = Conversation
        day = sql.day(self.dialect, c.created_at).label("day")
        stmt = (
            select(
                day,
                func.count(),
                func.sum(case((self.strict_ai_resolved(), 1), else_=0)),
                func.count(c.handed_off_at),
                func.avg(c.csat_rating),
                func.count(c.csat_rating),
            )
            .where(*self._conversations(window))
            .group_by(day)
            .order_by(day)
        )
        return [
            {
                "day": str(r[0]),
                "conversations": int(r[1]),
                "ai_resolved": int(r[2] or 0),
                "handed_off": int(r[3]),
                "csat_average": round(float(r[4]), 2) if r[4] is not None else None,
                "csat_count": int(r[5]),
            }
            for r in await self.session.execute(stmt)
        ]

    async def volume(self, window: Window) -> tuple[list[int], list[int]]:
        c = Conversation
        hour = sql.hour(self.dialect, c.created_at).label("h")
        weekday = sql.weekday(self.dialect, c.created_at).label("w")
        by_hour = [0] * 24
        by_weekday = [0] * 7
        rows = await self.session.execute(
            select(hour, weekday, func.count())
            .where(*self._conversations(window))
            .group_by(hour, weekday)
        )
        for h, w, n in rows:
            by_hour[int(h)] += int(n)
            by_weekday[int(w)] += int(n)
        return by_hour, by_weekday

    async def handoff_reasons(self, window: Window) -> list[tuple[str, int]]:
        c = Conversation
        lowered = func.lower(c.handoff_reason)
        code = case(
            *((lowered.like(f"{prefix}%"), literal(code.value)) for prefix, code in PREFIXES),
            (c.handoff_reason.is_(None), literal("unknown")),
            else_=literal(ReasonCode.OTHER.value),
        ).label("code")
        stmt = (
            select(code, func.count())
            .where(*self._conversations(window), c.handed_off_at.is_not(None))
            .group_by(code)
            .order_by(func.count().desc(), code)
        )
        return [(str(r[0]), int(r[1])) for r in await self.session.execute(stmt)]

    async def categories(self, window: Window, limit: int) -> list[tuple[str | None, int]]:
        c = Conversation
        stmt = (
            select(Category.name, func.count())
            .select_from(c)
            .outerjoin(
                Category,
                and_(Category.id == c.category_id, Category.tenant_id == self.scope.tenant_id),
            )
            .where(*self._conversations(window))
            .group_by(Category.name)
            .order_by(func.count().desc(), Category.name)
            .limit(limit)
        )
        return [(r[0], int(r[1])) for r in await self.session.execute(stmt)]

    async def unanswered(self, window: Window, limit: int) -> list[tuple[str, int]]:
        """The customers' first questions in conversations the AI handed off for lack of an
        answer, grouped by their normalized text (what the knowledge base lacks)."""
        c = Conversation
        first_id = (
            select(func.min(Message.id))
            .where(
                Message.conversation_id == c.id,
                Message.tenant_id == self.scope.tenant_id,
                Message.sender_type == "contact",
            )
            .correlate(c)
            .scalar_subquery()
        )
        question = func.lower(func.trim(func.substr(Message.text, 1, 200))).label("q")
        prefix = next(p for p, code in PREFIXES if code is ReasonCode.NO_CONFIDENT_ANSWER)
        stmt = (
            select(question, func.count())
            .select_from(c)
            .join(Message, Message.id == first_id)
            .where(
                *self._conversations(window),
                func.lower(c.handoff_reason).like(f"{prefix}%"),
            )
            .group_by(question)
            .order_by(func.count().desc(), question)
            .limit(limit)
        )
        return [(str(r[0]), int(r[1])) for r in await self.session.execute(stmt)]

    async def usage(self, window: Window) -> list[dict[str, Any]]:
        a = AiCall
        day = sql.day(self.dialect, a.created_at).label("day")
        where = [
            a.tenant_id == self.scope.tenant_id,
            a.created_at >= window.start,
            a.created_at < window.end,
        ]
        if window.channel_id is not None:
            where.append(
                a.conversation_id.in_(
                    select(Conversation.id).where(
                        Conversation.tenant_id == self.scope.tenant_id,
                        Conversation.channel_id == window.channel_id,
                    )
                )
            )
        stmt = (
            select(
                day,
                a.provider,
                func.count(),
                func.coalesce(func.sum(a.tokens_in), 0),
                func.coalesce(func.sum(a.tokens_out), 0),
                func.coalesce(func.sum(a.cost), 0.0),
            )
            .where(*where)
            .group_by(day, a.provider)
            .order_by(day, a.provider)
        )
        return [
            {
                "day": str(r[0]),
                "provider": r[1],
                "calls": int(r[2]),
                "tokens_in": int(r[3]),
                "tokens_out": int(r[4]),
                "cost": round(float(r[5]), 6),
            }
            for r in await self.session.execute(stmt)
        ]
