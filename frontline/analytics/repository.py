"""Every analytics query. Each one is scoped to the tenant and to conversations started in
``[start, end)`` (optionally on one channel) and aggregates in the database. The reports
read roll-ups kept by triggers (migration 0022_an365): counts from ``analytics_hourly``
(at most 24 rows a day per channel), exact nearest-rank percentiles and unanswered
questions from the narrow per-conversation ``analytics_conversations``, usage from
``analytics_usage_daily``. ``from_messages=True`` computes the same numbers from the raw
conversations, messages and AI log - the reference the roll-ups are tested against."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from frontline.analytics import sql
from frontline.conversations.reasons import PREFIXES, ReasonCode
from frontline.kit.repository import TenantScope
from frontline.models import (
    AiCall,
    AnalyticsConversation,
    AnalyticsHourly,
    Category,
    Conversation,
    ConversationStatus,
    Message,
    UsageDaily,
)

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


def _round(value: Any) -> float | None:
    return round(float(value), 1) if value is not None else None


def _day(value: Any) -> str:
    """A day bucket as ``YYYY-MM-DD`` (text on SQLite, a timestamp on PostgreSQL, a date
    from the roll-up's ``DATE`` column)."""
    if isinstance(value, str):
        return value
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _counts(row: Any) -> dict[str, Any]:
    """The totals' counts from (conversations, resolved, AI-alone resolved, handed off,
    CSAT sum, CSAT count) - sums are NULL over no rows."""
    csat_sum, csat_count = int(row[4] or 0), int(row[5] or 0)
    return {
        "conversations": int(row[0] or 0),
        "resolved": int(row[1] or 0),
        "ai_resolved": int(row[2] or 0),
        "handed_off": int(row[3] or 0),
        "csat_average": csat_sum / csat_count if csat_count else None,
        "csat_count": csat_count,
    }


class AnalyticsRepository:
    def __init__(
        self, session: AsyncSession, scope: TenantScope, *, from_messages: bool = False
    ) -> None:
        self.session = session
        self.scope = scope
        self.from_messages = from_messages
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

    def _facts(self, window: Window) -> Subquery:
        """Per conversation in the window: its first customer message and first visible AI
        and operator messages, aggregated from the messages in one grouped pass (the
        reference the trigger-kept ``analytics_conversation_facts`` and
        ``analytics_conversations`` are tested against)."""
        m, c = Message, Conversation
        visible = m.is_internal.is_(False)
        return (
            select(
                c.id.label("conversation_id"),
                func.min(case((m.sender_type == "contact", m.created_at))).label("contact_at"),
                func.min(case((and_(m.sender_type == "ai", visible), m.created_at))).label("ai_at"),
                func.min(case((and_(m.sender_type == "operator", visible), m.created_at))).label(
                    "operator_at"
                ),
            )
            .select_from(c)
            .join(m, and_(m.conversation_id == c.id, m.tenant_id == self.scope.tenant_id))
            .where(*self._conversations(window))
            .group_by(c.id)
            .subquery("facts")
        )

    def _hours(self, window: Window) -> list[ColumnElement[bool]]:
        """The hourly roll-up rows of the window (its bounds must be whole UTC hours)."""
        for bound in (window.start, window.end):
            if bound.minute or bound.second or bound.microsecond or bound.utcoffset():
                raise ValueError("an analytics window starts and ends on whole UTC hours")
        h = AnalyticsHourly
        key = tuple_(h.day, h.hour)
        where = [
            h.tenant_id == self.scope.tenant_id,
            h.day >= window.start.date(),
            h.day <= window.end.date(),
            key >= tuple_(literal(window.start.date()), literal(window.start.hour)),
            key < tuple_(literal(window.end.date()), literal(window.end.hour)),
        ]
        if window.channel_id is not None:
            where.append(h.channel_id == window.channel_id)
        return where

    def _joined(self, window: Window) -> Subquery:
        """One row per conversation in the window with what the reports need: the
        seconds to the AI's first reply (after the customer's first message), to an
        operator's first reply (after the handoff), to resolution, and whether the AI
        alone resolved it (strict: resolved, never handed to a person, no operator
        message, not reopened within 72 h, CSAT not negative)."""
        c = Conversation
        facts = self._facts(window)
        seconds = sql.seconds_between
        strict = and_(
            c.status == ConversationStatus.RESOLVED.value,
            c.handed_off_at.is_(None),
            c.reopened_soon.is_(False),
            or_(c.csat_rating.is_(None), c.csat_rating >= NEGATIVE_CSAT_BELOW),
            facts.c.operator_at.is_(None),
        )
        return (
            select(
                c.created_at,
                c.resolved_at,
                c.handed_off_at,
                c.csat_rating,
                case((strict, 1), else_=0).label("strict"),
                case(
                    (
                        facts.c.ai_at >= facts.c.contact_at,
                        seconds(self.dialect, facts.c.ai_at, facts.c.contact_at),
                    )
                ).label("ai_x"),
                case(
                    (
                        facts.c.operator_at >= c.handed_off_at,
                        seconds(self.dialect, facts.c.operator_at, c.handed_off_at),
                    )
                ).label("op_x"),
                case(
                    (c.resolved_at.is_not(None), seconds(self.dialect, c.resolved_at, c.created_at))
                ).label("res_x"),
            )
            .select_from(c)
            .outerjoin(facts, facts.c.conversation_id == c.id)
            .where(*self._conversations(window))
            .subquery("joined")
        )

    async def totals(self, window: Window) -> dict[str, Any]:
        """The counts from the hourly roll-up, the percentiles (exact, nearest-rank) from
        the per-conversation rows; ``from_messages``: both from the raw rows."""
        if self.from_messages:
            return await self._totals_raw(window)
        h = AnalyticsHourly
        row = (
            await self.session.execute(
                select(
                    func.sum(h.conversations),
                    func.sum(h.resolved),
                    func.sum(h.ai_resolved),
                    func.sum(h.handed_off),
                    func.sum(h.csat_sum),
                    func.sum(h.csat_count),
                ).where(*self._hours(window))
            )
        ).one()
        out = _counts(row)
        r = AnalyticsConversation
        where = [
            r.tenant_id == self.scope.tenant_id,
            r.created_at >= window.start,
            r.created_at < window.end,
        ]
        if window.channel_id is not None:
            where.append(r.channel_id == window.channel_id)
        rows = select(r.ai_s, r.op_s, r.res_s).where(*where).subquery("spans")
        out.update(await self._spreads(rows, ("ai_s", "op_s", "res_s")))
        return out

    async def _totals_raw(self, window: Window) -> dict[str, Any]:
        j = self._joined(window)
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count(j.c.resolved_at),
                    func.sum(j.c.strict),
                    func.count(j.c.handed_off_at),
                    func.sum(j.c.csat_rating),
                    func.count(j.c.csat_rating),
                )
            )
        ).one()
        out = _counts(row)
        out.update(await self._spreads(j, ("ai_x", "op_x", "res_x")))
        return out

    async def _spreads(self, rows: Subquery, columns: tuple[str, str, str]) -> dict[str, Spread]:
        """The first-response and resolution spreads over ``rows``' three duration columns
        (NULLs ignored): percentile_disc on PostgreSQL, window functions on SQLite - both
        nearest-rank."""
        names = ("ai_first_response", "operator_first_response", "resolution")
        if self.dialect == "postgresql":
            aggregates: list[Any] = []
            for name in columns:
                x = rows.c[name]
                aggregates += [
                    func.count(x),
                    func.percentile_disc(0.5).within_group(x),
                    func.percentile_disc(0.9).within_group(x),
                ]
            row = (await self.session.execute(select(*aggregates).select_from(rows))).one()
            return {
                name: Spread(int(row[3 * i]), _round(row[3 * i + 1]), _round(row[3 * i + 2]))
                for i, name in enumerate(names)
            }
        return {
            name: await self._spread(
                select(rows.c[column].label("x")).where(rows.c[column].is_not(None))
            )
            for name, column in zip(names, columns, strict=True)
        }

    async def _spread(self, values: Select[Any]) -> Spread:
        """Nearest-rank median and p90 with window functions (SQLite)."""
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
        return Spread(count=int(row[0]), median=_round(row[1]), p90=_round(row[2]))

    async def timeline(self, window: Window) -> list[dict[str, Any]]:
        """Per UTC day with conversations: the counts and CSAT, from the hourly roll-up
        (``from_messages``: from the raw rows)."""
        if self.from_messages:
            j = self._joined(window)
            day: Any = sql.day(self.dialect, j.c.created_at).label("day")
            stmt = select(
                day,
                func.count(),
                func.sum(j.c.strict),
                func.count(j.c.handed_off_at),
                func.sum(j.c.csat_rating),
                func.count(j.c.csat_rating),
            )
        else:
            h = AnalyticsHourly
            day = h.day
            stmt = (
                select(
                    day,
                    func.sum(h.conversations),
                    func.sum(h.ai_resolved),
                    func.sum(h.handed_off),
                    func.sum(h.csat_sum),
                    func.sum(h.csat_count),
                )
                .where(*self._hours(window))
                .having(func.sum(h.conversations) > 0)
            )
        return [
            {
                "day": _day(r[0]),
                "conversations": int(r[1]),
                "ai_resolved": int(r[2] or 0),
                "handed_off": int(r[3]),
                "csat_average": round(int(r[4]) / int(r[5]), 2) if r[5] else None,
                "csat_count": int(r[5]),
            }
            for r in await self.session.execute(stmt.group_by(day).order_by(day))
        ]

    async def volume(self, window: Window) -> tuple[list[int], list[int]]:
        """Conversations started per UTC hour of the day and per weekday, from the hourly
        roll-up (``from_messages``: from the conversations)."""
        if self.from_messages:
            c = Conversation
            hour = sql.hour(self.dialect, c.created_at).label("h")
            weekday = sql.weekday(self.dialect, c.created_at).label("w")
            stmt = select(hour, weekday, func.count()).where(*self._conversations(window))
        else:
            h = AnalyticsHourly
            hour = h.hour.label("h")
            weekday = sql.day_weekday(self.dialect, h.day).label("w")
            stmt = select(hour, weekday, func.sum(h.conversations)).where(*self._hours(window))
        by_hour = [0] * 24
        by_weekday = [0] * 7
        for hr, w, n in await self.session.execute(stmt.group_by(hour, weekday)):
            by_hour[int(hr)] += int(n)
            by_weekday[int(w)] += int(n)
        return by_hour, by_weekday

    async def handoff_reasons(self, window: Window) -> list[tuple[str, int]]:
        """Handed-off conversations by reason code: counted per reason text first (one hash
        over the partial index's rows), then each distinct text mapped to its code once."""
        c = Conversation
        texts = (
            select(c.handoff_reason.label("reason"), func.count().label("n"))
            .where(*self._conversations(window), c.handed_off_at.is_not(None))
            .group_by(c.handoff_reason)
            .subquery("texts")
        )
        lowered = func.lower(texts.c.reason)
        code = case(
            *((lowered.like(f"{prefix}%"), literal(code.value)) for prefix, code in PREFIXES),
            (texts.c.reason.is_(None), literal("unknown")),
            else_=literal(ReasonCode.OTHER.value),
        ).label("code")
        total = func.sum(texts.c.n)
        stmt = select(code, total).group_by(code).order_by(total.desc(), code)
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
        answer, grouped by their normalized text (what the knowledge base lacks): kept on
        the per-conversation rows (``from_messages``: from the messages)."""
        if self.from_messages:
            return await self._unanswered_raw(window, limit)
        r = AnalyticsConversation
        where = [
            r.tenant_id == self.scope.tenant_id,
            r.created_at >= window.start,
            r.created_at < window.end,
            r.question.is_not(None),
        ]
        if window.channel_id is not None:
            where.append(r.channel_id == window.channel_id)
        stmt = (
            select(r.question, func.count())
            .where(*where)
            .group_by(r.question)
            .order_by(func.count().desc(), r.question)
            .limit(limit)
        )
        return [(str(q), int(n)) for q, n in await self.session.execute(stmt)]

    async def _unanswered_raw(self, window: Window, limit: int) -> list[tuple[str, int]]:
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
        """LLM calls, tokens and cost per UTC day and provider: from the daily roll-up
        (``analytics_usage_daily``, kept by a trigger on the AI log), or with
        ``from_messages`` summed from the AI log itself (the reference; it loses the days
        the log's retention purged, the roll-up keeps them)."""
        if self.from_messages:
            return await self._usage_from_log(window)
        u = UsageDaily
        where = [
            u.tenant_id == self.scope.tenant_id,
            u.day >= window.start.date(),
            u.day < window.end.date(),
        ]
        if window.channel_id is not None:
            where.append(u.channel_id == window.channel_id)
        stmt = (
            select(
                u.day,
                u.provider,
                func.sum(u.calls),
                func.sum(u.tokens_in),
                func.sum(u.tokens_out),
                func.sum(u.cost),
            )
            .where(*where)
            .group_by(u.day, u.provider)
            .order_by(u.day, u.provider)
        )
        return [
            {
                "day": r[0].isoformat(),
                "provider": r[1],
                "calls": int(r[2]),
                "tokens_in": int(r[3]),
                "tokens_out": int(r[4]),
                "cost": round(float(r[5]), 6),
            }
            for r in await self.session.execute(stmt)
        ]

    async def _usage_from_log(self, window: Window) -> list[dict[str, Any]]:
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
                "day": _day(r[0]),
                "provider": r[1],
                "calls": int(r[2]),
                "tokens_in": int(r[3]),
                "tokens_out": int(r[4]),
                "cost": round(float(r[5]), 6),
            }
            for r in await self.session.execute(stmt)
        ]
