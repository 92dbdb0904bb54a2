"""Issue 14's first-run fixes: what a new user trips over in the first minutes."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest

from frontline.ai.offline.engine import _REASON_TEXT, HandoffReason
from frontline.conversations.reasons import ReasonCode, reason_code, reason_detail
from tests.conftest import Factory

ROOT = Path(__file__).resolve().parents[2]
DEMO_PAGE = ROOT / "frontline" / "console" / "static" / "demo.html"
KNOWLEDGE = ROOT / "frontline" / "demo_knowledge"


async def test_landing_links_the_demo_and_the_console_and_a_favicon_is_served(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    assert 'href="/demo"' in r.text and 'href="/console"' in r.text
    r = await client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.content.startswith(b"<svg")


async def test_docs_assets_are_served_locally(client: httpx.AsyncClient) -> None:
    """/docs and /redoc load their scripts and styles from this server, never a CDN."""
    for page in ("/docs", "/redoc"):
        r = await client.get(page)
        assert r.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert sources, page
        for url in sources:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            if url.endswith((".js", ".css")):
                asset = await client.get(url)
                assert asset.status_code == 200 and len(asset.content) > 10_000, url
        assert "cdn" not in r.text.lower()


def test_the_demo_page_agrees_with_the_demo_knowledge() -> None:
    """Every price and tour length the demo page states is what the knowledge base says
    (it used to say Karelia 5 days and Altai 8 days)."""
    page = DEMO_PAGE.read_text("utf-8")
    knowledge = (KNOWLEDGE / "tours-ru.md").read_text("utf-8")
    prices = re.findall(r"(\d{2}[\s ]\d{3}) ₽", page)
    assert len(prices) == 3
    for price in prices:
        assert price.replace("\u00a0", " ") in knowledge.replace("\u00a0", " "), price
    tours = re.findall(r"<h2>([^<]+)</h2>\s*<p>([^<]+)", page)
    for title, text in tours:
        days = re.search(r"(\d+) (?:дн|day)", title + " " + text)
        if days:
            name = title.split("·")[0].split(":")[0].split(" за ")[0].strip()
            section = knowledge[knowledge.index(name) :].split("\n## ")[0]
            assert days.group(1) in section, (title, section)
    assert "5 дней, можно с собакой" not in page and "8 дней" not in page


def test_handoff_reasons_have_codes() -> None:
    expected = {
        HandoffReason.HUMAN_REQUESTED: ReasonCode.HUMAN_REQUESTED,
        HandoffReason.CUSTOMER_UPSET: ReasonCode.CUSTOMER_UPSET,
        HandoffReason.BILLING_DISPUTE: ReasonCode.BILLING_DISPUTE,
        HandoffReason.NO_CONFIDENT_ANSWER: ReasonCode.NO_CONFIDENT_ANSWER,
    }
    for reason, text in _REASON_TEXT.items():
        assert reason_code(f"{text} ('evidence')") is expected[reason]
    assert reason_code("the customer asked for a person") is ReasonCode.HUMAN_REQUESTED
    assert reason_code("invalid model output") is ReasonCode.INVALID_OUTPUT
    assert reason_code("The client wants a refund") is ReasonCode.OTHER
    assert reason_code(None) is None
    assert reason_detail("Customer seems upset ('ужас')") == "'ужас'"
    assert reason_detail("The client wants a refund") == "The client wants a refund"


@pytest.mark.usefixtures("backend")
async def test_inbox_rows_carry_a_preview_and_search_finds_contacts(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    r = await c.post(
        f"/api/v1/channels/{t.api_channel_id}/messages",
        headers=t.api_channel,
        json={
            "external_id": uuid.uuid4().hex,
            "contact": {
                "external_id": "anna",
                "name": "Анна Петрова",
                "email": "anna.p@example.org",
                "phone": "+7 999 123-45-67",
            },
            "text": "Первое сообщение",
        },
    )
    assert r.status_code == 202, r.text
    conversation_id = r.json()["conversation_id"]
    await factory.inbound(t, contact="anna-other", text="Someone else entirely")
    r = await c.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        json={"text": "internal"},
        headers=t.operator,
    )
    assert r.status_code == 201, r.text
    await factory.inbound(t, contact="anna", text="А это последнее " + "x" * 300)

    r = await c.get("/api/v1/conversations", headers=t.operator)
    rows = {row["id"]: row for row in r.json()["items"]}
    preview = rows[conversation_id]["last_message"]
    assert preview["sender_type"] == "contact"  # the note is not shown
    assert preview["text"].startswith("А это последнее") and len(preview["text"]) == 140

    for query in ("петрова", "ANNA.P@", "123-45", "Анна"):
        r = await c.get("/api/v1/conversations", params={"q": query}, headers=t.operator)
        assert r.status_code == 200, r.text
        assert [row["id"] for row in r.json()["items"]] == [conversation_id], query
    r = await c.get("/api/v1/conversations", params={"q": "nobody%"}, headers=t.operator)
    assert r.json()["items"] == []


@pytest.mark.usefixtures("backend")
async def test_a_handoff_carries_its_reason_code(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    inbound = await factory.inbound(t, text="hello")
    async with factory.services.db.transaction() as session:
        from frontline.conversations import service as conversations
        from frontline.kit.repository import TenantScope

        await conversations.request_handoff(
            session,
            TenantScope(t.id),
            inbound["conversation_id"],
            "the customer asked for a person",
        )
    r = await factory.client.get(
        f"/api/v1/conversations/{inbound['conversation_id']}", headers=t.operator
    )
    assert r.json()["handoff_reason_code"] == "human_requested"
