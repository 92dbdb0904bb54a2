"""WhatsApp inbound: the subscription handshake, signatures, recorded message payloads
(text, image, document, interactive) stored once however often Meta redelivers them."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx

from frontline.deps import Services
from frontline.jobs.worker import Worker
from tests.channels.whatsapp.fake_graph import (
    CUSTOMER,
    VERIFY_TOKEN,
    FakeGraph,
    payload,
    sign,
)
from tests.channels.whatsapp.helpers import (
    conversations,
    message_count,
    post_webhook,
    thread,
    whatsapp_channel,
)
from tests.conftest import Factory

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def test_subscription_handshake_echoes_the_challenge(factory: Factory) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, None)
    url = f"/api/v1/webhooks/whatsapp/{cid}"
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": ""}
    r = await factory.client.get(url, params={**params, "hub.verify_token": VERIFY_TOKEN})
    assert r.status_code == 200
    assert r.text == "1158201444"
    r = await factory.client.get(url, params={**params, "hub.verify_token": "wrong"})
    assert r.status_code == 403
    assert "verify_token" in r.json()["error"]["message"]
    r = await factory.client.get(url, params={k: v for k, v in params.items() if k != "hub.mode"})
    assert r.status_code == 403
    r = await factory.client.get(f"/api/v1/webhooks/whatsapp/{uuid.uuid4()}", params=params)
    assert r.status_code == 404
    # another type of channel behind the URL: unknown here
    r = await factory.client.get(f"/api/v1/webhooks/whatsapp/{t.api_channel_id}", params=params)
    assert r.status_code == 404


async def test_bad_signatures_store_nothing(factory: Factory, services: Services) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, None)
    raw = json.dumps(payload("text")).encode()
    url = f"/api/v1/webhooks/whatsapp/{cid}"
    r = await factory.client.post(url, content=raw)
    assert r.status_code == 401
    assert "missing" in r.json()["error"]["message"]
    r = await factory.client.post(url, content=raw, headers=sign(raw, "another app secret"))
    assert r.status_code == 401
    r = await factory.client.post(url, content=raw + b" ", headers=sign(raw))  # body changed
    assert r.status_code == 401
    assert await message_count(services) == 0
    r = await factory.client.post(url, content=raw, headers=sign(raw))
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": 1, "duplicates": 0, "statuses_applied": 0, "ignored": 0}
    assert await message_count(services) == 1


async def test_text_message_opens_a_conversation_with_the_sender(factory: Factory) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, None)
    r = await post_webhook(factory.client, cid, payload("text"))
    assert r.status_code == 200, r.text
    [conv] = await conversations(factory, t, cid)
    [m] = await thread(factory, t, conv["id"])
    assert m["text"] == "Does it come in another color?"
    assert m["sender_type"] == "contact"
    assert m["external_id"].startswith("wamid.HBgLMTY1MDM4Nzk0")
    r = await factory.client.get(f"/api/v1/contacts/{conv['contact_id']}", headers=t.operator)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Sheena Nelson"
    assert r.json()["phone"] == f"+{CUSTOMER}"


async def test_twenty_concurrent_redeliveries_store_one_message(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, None)
    body = payload("text", id="wamid.CONCURRENT-1")
    answers = await asyncio.gather(*(post_webhook(factory.client, cid, body) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert sum(a.json()["stored"] for a in answers) == 1
    assert sum(a.json()["duplicates"] for a in answers) == 19
    assert await message_count(services) == 1
    assert len(await conversations(factory, t, cid)) == 1


async def test_image_and_document_are_downloaded_through_the_media_url(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    graph.media["1003383421387256"] = (JPEG, "image/jpeg")
    graph.media["2096244764164735"] = (PDF, "application/pdf")
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    for name in ("image", "document"):
        r = await post_webhook(factory.client, cid, payload(name))
        assert r.status_code == 200, r.text
    [conv] = await conversations(factory, t, cid)
    before = await thread(factory, t, conv["id"])
    assert [m["attachments"][0]["status"] for m in before] == ["pending", "pending"]
    await worker.run_until_idle()
    image, document = await thread(factory, t, conv["id"])
    assert image["text"] == "Black jacket"
    assert document["text"] == "Receipt for the deposit"
    [jpeg] = image["attachments"]
    [pdf] = document["attachments"]
    assert (jpeg["status"], jpeg["content_type"], jpeg["size"]) == (
        "stored",
        "image/jpeg",
        len(JPEG),
    )
    assert (pdf["status"], pdf["filename"], pdf["size"]) == ("stored", "receipt.pdf", len(PDF))
    r = await factory.client.get(pdf["url"], headers=t.operator)
    assert r.status_code == 200
    assert r.content == PDF
    # metadata, then the bytes, each with the channel's access token
    media_calls = [q for q in graph.requests if q.method == "GET"]
    assert len(media_calls) == 4
    assert all(q.headers["authorization"].startswith("Bearer ") for q in media_calls)


async def test_interactive_reply_is_the_chosen_title(factory: Factory) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, None)
    r = await post_webhook(factory.client, cid, payload("interactive"))
    assert r.status_code == 200, r.text
    [conv] = await conversations(factory, t, cid)
    [m] = await thread(factory, t, conv["id"])
    assert m["text"] == "Change"
    assert m["meta"] == {"whatsapp_type": "interactive", "reply_id": "change-button"}


async def test_malformed_and_unhandled_updates_are_acknowledged_and_ignored(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, None)
    reaction = payload("text", type="reaction", reaction={"message_id": "wamid.X", "emoji": "👍"})
    other_number = payload("text")
    other_number["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    odd_types = payload("text", text="a string where an object belongs")
    odd_lists = payload("text")
    odd_lists["entry"][0]["changes"][0]["value"]["contacts"] = 7
    odd_meta = payload("text")
    odd_meta["entry"][0]["changes"][0]["value"]["metadata"] = "106540352242922"
    bodies = (b"{not json", b"[]", {"object": "page"}, reaction, other_number)
    for body in (*bodies, odd_types, odd_lists, odd_meta, {"entry": [{"changes": 5}]}):
        r = await post_webhook(factory.client, cid, body)
        assert r.status_code == 200, r.text
        assert r.json()["stored"] == 0
        assert r.json()["ignored"] >= 1
    assert await message_count(services) == 0


async def test_unknown_channel_is_404(client: httpx.AsyncClient) -> None:
    r = await post_webhook(client, str(uuid.uuid4()), payload("text"))
    assert r.status_code == 404
