"""Analytics on both databases: every report on a seeded tenant whose numbers are known,
an empty range, the range rules and the role check."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontline.models import AiCall, Category, Contact, Conversation, Message
from tests.conftest import Factory, TenantFixture

API = "/api/v1/analytics"
DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
RANGE = "start=2026-03-01&end=2026-03-07"


def at(hours: float, day: datetime = DAY) -> datetime:
    return day + timedelta(hours=hours)


class Seeder:
    def __init__(self, factory: Factory, t: TenantFixture) -> None:
        self.factory = factory
        self.t = t
        self.n = 0

    async def conversation(
        self,
        created: datetime,
        messages: list[tuple[str, float]],
        *,
        status: str = "resolved",
        resolved_after: float | None = 600,
        handed_off_after: float | None = None,
        reason: str | None = None,
        csat: int | None = None,
        reopened_soon: bool = False,
        category_id: uuid.UUID | None = None,
        channel: str | None = None,
        first_text: str = "Hello",
    ) -> int:
        """A conversation and its messages (``(sender_type, seconds after created)``)."""
        self.n += 1
        channel_id = uuid.UUID(channel or self.t.api_channel_id)
        async with self.factory.services.db.transaction() as session:
            contact = Contact(tenant_id=self.t.id, name=f"Customer {self.n}")
            session.add(contact)
            await session.flush()
            conv = Conversation(
                tenant_id=self.t.id,
                channel_id=channel_id,
                contact_id=contact.id,
                status=status,
                subject="",
                created_at=created,
                last_activity_at=created,
                updated_at=created,
                resolved_at=(
                    created + timedelta(seconds=resolved_after)
                    if status == "resolved" and resolved_after is not None
                    else None
                ),
                handed_off_at=(
                    created + timedelta(seconds=handed_off_after)
                    if handed_off_after is not None
                    else None
                ),
                handoff_reason=reason,
                csat_rating=csat,
                reopened_soon=reopened_soon,
                category_id=category_id,
            )
            session.add(conv)
            await session.flush()
            for i, (sender, seconds) in enumerate(messages):
                session.add(
                    Message(
                        tenant_id=self.t.id,
                        conversation_id=conv.id,
                        channel_id=channel_id,
                        sender_type=sender,
                        text=first_text if i == 0 else f"{sender} {i}",
                        delivery_status="received" if sender == "contact" else "sent",
                        created_at=created + timedelta(seconds=seconds),
                    )
                )
            return conv.id


async def seed(factory: Factory, t: TenantFixture) -> None:
    s = Seeder(factory, t)
    async with factory.services.db.transaction() as session:
        payment = Category(tenant_id=t.id, name="Оплата")
        session.add(payment)
        await session.flush()
        payment_id = payment.id
    # 1. resolved by the AI alone: answered in 4 s
    await s.conversation(at(10), [("contact", 0), ("ai", 4)])
    # 2. handed off after 10 s, an operator answered 60 s later
    await s.conversation(
        at(11),
        [("contact", 0), ("ai", 2), ("operator", 70)],
        handed_off_after=10,
        reason="Customer asked for a person ('оператор')",
        category_id=payment_id,
        resolved_after=1200,
    )
    # 3. resolved without a person, but the customer rated it 1: not the AI's success
    await s.conversation(at(12), [("contact", 0), ("ai", 6)], csat=1)
    # 4. resolved, reopened within 72 h (and resolved again): not the AI's success
    await s.conversation(at(13), [("contact", 0), ("ai", 8)], reopened_soon=True, csat=5)
    # 5. still with the AI, Tuesday 09:00
    await s.conversation(at(33), [("contact", 0), ("ai", 20)], status="bot")
    # 6. on the e-mail channel: resolved by the AI alone
    await s.conversation(at(14), [("contact", 0), ("ai", 10)], channel=t.email_channel_id)
    # 7. before the range
    await s.conversation(at(10, DAY - timedelta(days=40)), [("contact", 0), ("ai", 1)])
    # 8, 9. no confident answer, the same question twice (case and spaces differ)
    for text in ("Do you have parking?", "  do you have PARKING?"):
        await s.conversation(
            at(15),
            [("contact", 0), ("ai", 3)],
            status="pending",
            handed_off_after=3,
            reason="No confident answer in the knowledge base (confidence 0.12)",
            first_text=text,
        )
    async with factory.services.db.transaction() as session:
        for provider, tokens, cost, when in (
            ("openai", 100, 0.002, at(10)),
            ("openai", 50, 0.001, at(12)),
            ("offline", 0, None, at(33)),
        ):
            session.add(
                AiCall(
                    tenant_id=t.id,
                    provider=provider,
                    model="m",
                    prompt=[],
                    tokens_in=tokens,
                    tokens_out=tokens // 2,
                    cost=cost,
                    created_at=when,
                )
            )


async def get(factory: Factory, t: TenantFixture, path: str) -> Any:
    r = await factory.client.get(f"{API}/{path}", headers=t.owner)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.usefixtures("backend")
async def test_every_report_on_known_numbers(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    await seed(factory, t)
    await seed(factory, other)  # never counted for t

    s = await get(factory, t, f"summary?{RANGE}")
    assert s["conversations"] == 8
    assert s["resolved"] == 5
    assert s["ai_resolved"] == 2  # conversations 1 and 6
    assert s["ai_resolved_share"] == 0.25
    assert s["handed_off"] == 3
    assert s["handoff_rate"] == 0.375
    assert s["csat_count"] == 2 and s["csat_average"] == 3.0
    ai = s["ai_first_response"]
    # AI first responses: 4, 2, 6, 8, 20, 10, 3, 3 -> sorted 2 3 3 4 6 8 10 20
    assert ai["count"] == 8 and ai["median"] == 4.0 and ai["p90"] == 20.0
    assert s["operator_first_response"] == {"count": 1, "median": 60.0, "p90": 60.0}
    assert s["resolution"]["count"] == 5
    assert s["resolution"]["median"] == 600.0 and s["resolution"]["p90"] == 1200.0
    assert s["bookings"] == {"created": 0, "confirmed": 0}

    only_mail = await get(factory, t, f"summary?{RANGE}&channel_id={t.email_channel_id}")
    assert (only_mail["conversations"], only_mail["ai_resolved"]) == (1, 1)

    timeline = await get(factory, t, f"timeline?{RANGE}")
    days = {d["day"]: d for d in timeline["days"]}
    assert len(days) == 7 and days["2026-03-01"]["conversations"] == 0
    assert days["2026-03-02"]["conversations"] == 7
    assert days["2026-03-02"]["ai_resolved"] == 2
    assert days["2026-03-03"]["conversations"] == 1

    volume = await get(factory, t, f"volume?{RANGE}")
    assert volume["by_weekday"] == [7, 1, 0, 0, 0, 0, 0]
    assert volume["by_hour"][15] == 2 and volume["by_hour"][9] == 1
    assert sum(volume["by_hour"]) == 8

    reasons = await get(factory, t, f"handoff-reasons?{RANGE}")
    assert reasons["items"] == [
        {"key": "no_confident_answer", "label": None, "count": 2},
        {"key": "human_requested", "label": None, "count": 1},
    ]
    categories = await get(factory, t, f"categories?{RANGE}")
    assert {(i["key"], i["count"]) for i in categories["items"]} == {("", 7), ("Оплата", 1)}

    unanswered = await get(factory, t, f"unanswered?{RANGE}")
    assert unanswered["items"] == [{"key": "do you have parking?", "label": None, "count": 2}]

    usage = await get(factory, t, f"usage?{RANGE}")
    assert usage["days"] == [
        {
            "day": "2026-03-02",
            "provider": "openai",
            "calls": 2,
            "tokens_in": 150,
            "tokens_out": 75,
            "cost": 0.003,
        },
        {
            "day": "2026-03-03",
            "provider": "offline",
            "calls": 1,
            "tokens_in": 0,
            "tokens_out": 0,
            "cost": 0.0,
        },
    ]

    r = await factory.client.get(f"{API}/summary?{RANGE}&format=csv", headers=t.owner)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = dict(tuple(row) for row in csv.reader(io.StringIO(r.text)))
    assert rows["ai_resolved"] == "2" and rows["ai_first_response_median_s"] == "4.0"
    r = await factory.client.get(f"{API}/usage?{RANGE}&format=csv", headers=t.owner)
    assert r.text.splitlines()[0] == "day,provider,calls,tokens_in,tokens_out,cost"


@pytest.mark.usefixtures("backend")
async def test_an_empty_range_is_all_zeros(factory: Factory) -> None:
    t = await factory.tenant()
    s = await get(factory, t, "summary?start=2020-01-01&end=2020-01-31")
    assert (s["conversations"], s["ai_resolved"], s["handed_off"]) == (0, 0, 0)
    assert s["ai_resolved_share"] is None and s["handoff_rate"] is None
    assert s["ai_first_response"] == {"count": 0, "median": None, "p90": None}
    timeline = await get(factory, t, "timeline?start=2020-01-01&end=2020-01-31")
    assert len(timeline["days"]) == 31
    assert all(d["conversations"] == 0 for d in timeline["days"])
    volume = await get(factory, t, "volume?start=2020-01-01&end=2020-01-31")
    assert volume["by_hour"] == [0] * 24 and volume["by_weekday"] == [0] * 7
    for report in ("handoff-reasons", "categories", "unanswered"):
        assert (await get(factory, t, f"{report}?start=2020-01-01&end=2020-01-31"))["items"] == []
    assert (await get(factory, t, "usage?start=2020-01-01&end=2020-01-31"))["days"] == []
    # the default range: the last 30 days
    s = await get(factory, t, "summary")
    assert s["range"]["end"] >= s["range"]["start"]


@pytest.mark.usefixtures("backend")
async def test_bad_ranges_and_roles(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    r = await c.get(f"{API}/summary?start=2026-03-07&end=2026-03-01", headers=t.owner)
    assert r.status_code == 422 and "before" in r.json()["error"]["message"]
    # a code and the failing field, so the console shows it under "end" in its language
    error = r.json()["error"]
    assert error["code"] == "range_end_before_start"
    assert [(f["loc"], f["type"]) for f in error["fields"]] == [
        (["query", "end"], "range_end_before_start")
    ]
    r = await c.get(f"{API}/timeline?start=2020-01-01&end=2026-03-01", headers=t.owner)
    assert r.status_code == 422 and "366" in r.json()["error"]["message"]
    assert r.json()["error"]["fields"][0]["ctx"] == {"max_days": "366"}
    r = await c.get(f"{API}/summary?start=yesterday", headers=t.owner)
    assert r.status_code == 422
    r = await c.get(f"{API}/summary?format=xml", headers=t.owner)
    assert r.status_code == 422
    for report in ("summary", "timeline", "volume", "handoff-reasons", "categories", "usage"):
        r = await c.get(f"{API}/{report}", headers=t.operator)
        assert r.status_code == 403, report
        r = await c.get(f"{API}/{report}")
        assert r.status_code == 401, report
