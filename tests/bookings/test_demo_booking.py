"""The demo workspace takes "Хочу забронировать Байкал на двоих с 9 июня" end to end:
its tours carry the knowledge base's prices, dates and rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from frontline.bookings.demo import baikal_days
from frontline.demo import ensure_demo
from frontline.deps import Services
from frontline.jobs.worker import Worker

API = "/api/v1"


async def test_the_demo_books_baikal_for_two_from_the_9th_of_june(
    services: Services, client: httpx.AsyncClient, worker: Worker
) -> None:
    info = await ensure_demo(services)
    await ensure_demo(services)  # idempotent: nothing seeded twice
    channel = {"Authorization": f"Bearer {info.api_channel_secret}"}

    async def say(text: str) -> dict[str, Any]:
        r = await client.post(
            f"{API}/channels/{info.api_channel_id}/messages",
            headers=channel,
            json={"external_id": text, "contact": {"external_id": "anna"}, "text": text},
        )
        assert r.status_code in (200, 202), r.text
        await worker.run_until_idle()
        return dict(r.json())

    login = await client.post(
        f"{API}/auth/login",
        json={"email": info.operator_email, "password": info.operator_password},
    )
    staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
    resources = (await client.get(f"{API}/resources", headers=staff)).json()
    assert sorted(r["name"] for r in resources) == ["Алтай", "Байкал", "Карелия"]
    baikal = next(r for r in resources if r["name"] == "Байкал")
    assert baikal["price"] == "45000.00" and baikal["timezone"] == "Asia/Irkutsk"
    conditions = (
        await client.get(f"{API}/resources/{baikal['id']}/conditions", headers=staff)
    ).json()
    assert conditions["prepayment_percent"] == 30 and conditions["payment_deadline_days"] == 14
    sent = await say("Хочу забронировать Байкал на двоих с 9 июня")
    await say("Анна Смирнова, +7 999 123-45-67")
    r = await client.get(f"{API}/conversations/{sent['conversation_id']}", headers=staff)
    texts = [m["text"] for m in r.json()["messages"] if m["sender_type"] == "ai"]
    assert texts[0].startswith("Чтобы забронировать «Байкал»"), texts
    assert texts[-1].startswith("Я оформил(а) заявку №"), texts
    assert "90\u00a0000 ₽" in texts[-1] and "предоплата 30%" in texts[-1]
    (booking,) = (await client.get(f"{API}/bookings", headers=staff)).json()["items"]
    assert booking["status"] == "pending" and booking["adults"] == 2
    assert booking["starts_at"][5:10] == "06-09"  # 10:00 in Irkutsk is 02:00 UTC


def test_baikal_dates_are_the_knowledge_base_s() -> None:
    days = baikal_days(date(2026, 12, 7))
    summer = [d for d in days if d.year == 2027 and 6 <= d.month <= 8]
    assert (summer[0], summer[-1], len(summer)) == (date(2027, 6, 2), date(2027, 8, 25), 13)
    winter = [d for d in days if d.year == 2027 and d.month <= 3]
    assert (winter[0], winter[-1]) == (date(2027, 2, 5), date(2027, 3, 19))
