"""``GET /api/v1/analytics/<report>?start=&end=&channel_id=&format=json|csv`` (admins and
owners). ``start``/``end`` are UTC days, both included (default: the last 30 days); ``end``
before ``start`` is a 422. ``format=csv`` returns the report's table as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.analytics import service
from frontline.analytics.repository import Window
from frontline.analytics.schemas import (
    BookingsOut,
    CountsOut,
    Range,
    SummaryOut,
    TimelineOut,
    UsageOut,
    VolumeOut,
)
from frontline.auth.deps import Admin
from frontline.deps import Session
from frontline.kit.repository import TenantScope

router = APIRouter(prefix="/analytics", tags=["analytics"])

Report = Callable[[AsyncSession, TenantScope, Range, Window], Awaitable[BaseModel]]
# ``format=csv``: the same report as a CSV table
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


def _csv(name: str, data: Any) -> Response:
    header, rows = service.table(name, data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="analytics-{name}.csv"'},
    )


class Params:
    """The query parameters every report takes: ``start``/``end`` (UTC days, both
    included; default the last 30 days), ``channel_id`` and ``format``."""

    def __init__(
        self,
        start: Annotated[date | None, Query(description="first UTC day (included)")] = None,
        end: Annotated[date | None, Query(description="last UTC day (included)")] = None,
        channel_id: Annotated[uuid.UUID | None, Query(description="only this channel")] = None,
        format: Format = "json",
    ) -> None:
        self.start = start
        self.end = end
        self.channel_id = channel_id
        self.format = format


ReportQuery = Annotated[Params, Depends()]


async def _run(
    name: str, report: Report, subject: Admin, session: AsyncSession, params: Params
) -> Any:
    rng, window = service.resolve_range(params.start, params.end, params.channel_id)
    data = await report(session, subject.scope, rng, window)
    return _csv(name, data) if params.format == "csv" else data


@router.get("/summary", response_model=SummaryOut, responses=CSV_RESPONSE)
async def summary(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """Conversations, the strict AI-resolved share, handoff rate, CSAT, first response
    times (AI and operator) and time to resolution (median and p90, seconds)."""
    return await _run("summary", service.summary, subject, session, params)


@router.get("/timeline", response_model=TimelineOut, responses=CSV_RESPONSE)
async def timeline(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """Per day: conversations, AI-resolved, handed off, CSAT."""
    return await _run("timeline", service.timeline, subject, session, params)


@router.get("/bookings", response_model=BookingsOut, responses=CSV_RESPONSE)
async def bookings(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """Bookings created per UTC day and how many of them are confirmed now (with
    ``channel_id``: those made from that channel's conversations)."""
    return await _run("bookings", service.bookings, subject, session, params)


@router.get("/volume", response_model=VolumeOut, responses=CSV_RESPONSE)
async def volume(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """Conversations started by UTC hour of the day and by weekday."""
    return await _run("volume", service.volume, subject, session, params)


@router.get("/handoff-reasons", response_model=CountsOut, responses=CSV_RESPONSE)
async def handoff_reasons(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """Handed-off conversations by reason code (``unknown``: the reason was cleared when
    the conversation was handed back or reopened)."""
    return await _run("handoff-reasons", service.handoff_reasons, subject, session, params)


@router.get("/categories", response_model=CountsOut, responses=CSV_RESPONSE)
async def categories(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """The top categories (an empty key: no category)."""
    return await _run("categories", service.categories, subject, session, params)


@router.get("/unanswered", response_model=CountsOut, responses=CSV_RESPONSE)
async def unanswered(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """Questions the AI had no confident answer to, grouped by their normalized text."""
    return await _run("unanswered", service.unanswered, subject, session, params)


@router.get("/usage", response_model=UsageOut, responses=CSV_RESPONSE)
async def usage(subject: Admin, session: Session, params: ReportQuery) -> Any:
    """LLM calls, tokens and cost per provider per day."""
    return await _run("usage", service.usage, subject, session, params)
