"""Text a person types, on every endpoint that takes it: whitespace-only text and text over
the documented maximum are refused with 422 naming the field, and nothing is written."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from frontline.kit.text import MAX_MESSAGE_CHARS
from frontline.models import Message
from tests.conftest import Factory
from tests.customers.test_customer_api import mint, web_channel

BLANKS = [" ", "   \n\t  ", "\u00a0\u2003", "\r\n"]


def refused(r: httpx.Response, field: str, words: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid"
    hits = [f for f in error["fields"] if f["loc"][-1] == field]
    assert hits, error
    assert words in hits[0]["message"], hits[0]


async def messages(factory: Factory) -> int:
    async with factory.services.db.reader() as s:
        return int((await s.execute(select(func.count()).select_from(Message))).scalar_one())


async def test_operator_replies_and_notes(factory: Factory) -> None:
    t = await factory.tenant()
    conversation = (await factory.inbound(t))["conversation_id"]
    before = await messages(factory)
    base = f"/api/v1/conversations/{conversation}"
    for path in ("/messages", "/notes"):
        for blank in BLANKS:
            r = await factory.client.post(base + path, json={"text": blank}, headers=t.operator)
            refused(r, "text", "blank")
        r = await factory.client.post(base + path, json={"text": ""}, headers=t.operator)
        refused(r, "text", "at least 1")
        r = await factory.client.post(
            base + path, json={"text": "x" * (MAX_MESSAGE_CHARS + 1)}, headers=t.operator
        )
        refused(r, "text", f"at most {MAX_MESSAGE_CHARS}")
    assert await messages(factory) == before
    # text with whitespace around words is fine
    r = await factory.client.post(base + "/notes", json={"text": "  ok  "}, headers=t.operator)
    assert r.status_code in (200, 201), r.text


async def test_api_channel_inbound(factory: Factory) -> None:
    t = await factory.tenant()
    url = f"/api/v1/channels/{t.api_channel_id}/messages"
    for blank in BLANKS:
        r = await factory.client.post(
            url,
            headers=t.api_channel,
            json={"external_id": uuid.uuid4().hex, "contact": {"external_id": "c"}, "text": blank},
        )
        refused(r, "text", "blank")
    r = await factory.client.post(
        url,
        headers=t.api_channel,
        json={
            "external_id": uuid.uuid4().hex,
            "contact": {"external_id": "c"},
            "text": "x" * (MAX_MESSAGE_CHARS + 1),
        },
    )
    refused(r, "text", f"at most {MAX_MESSAGE_CHARS}")
    assert await messages(factory) == 0


async def test_customer_api(factory: Factory) -> None:
    t = await factory.tenant()
    web = await web_channel(factory.services, t)
    headers = mint(web, "user-1")
    for blank in BLANKS:
        r = await factory.client.post(
            "/api/v1/customer/conversations", json={"text": blank}, headers=headers
        )
        refused(r, "text", "blank")
    r = await factory.client.post(
        "/api/v1/customer/conversations", json={"text": "x" * 4001}, headers=headers
    )
    refused(r, "text", "at most 4000")
    assert await messages(factory) == 0


async def test_copilot_drafts(factory: Factory) -> None:
    t = await factory.tenant()
    conversation = (await factory.inbound(t))["conversation_id"]
    base = f"/api/v1/conversations/{conversation}/copilot"
    for action, body in (("rewrite", {"mode": "shorter"}), ("translate", {})):
        r = await factory.client.post(
            f"{base}/{action}", json={"text": "  \n ", **body}, headers=t.operator
        )
        refused(r, "text", "blank")


def test_the_maximum_is_documented_in_the_openapi_schema() -> None:
    from frontline.conversations.schemas import NoteIn
    from frontline.messages.schemas import ReplyIn

    for model in (ReplyIn, NoteIn):
        text = model.model_json_schema()["properties"]["text"]
        assert text["maxLength"] == MAX_MESSAGE_CHARS and text["minLength"] == 1
