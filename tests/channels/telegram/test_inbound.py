"""What a Telegram customer sends: captions, photos and documents (getFile + download into
the attachment store), /start, edits; and long polling with its offset kept in the
channel state."""

from __future__ import annotations

import asyncio
import uuid

from frontline.channels import service as channels
from frontline.channels.telegram.poll import poll_once, run_pollers
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from tests.attachments.conftest import PDF, png
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import (
    conversations,
    create_channel,
    messages,
    run_jobs_until,
)
from tests.channels.telegram.fakebot import FakeBotApi
from tests.conftest import Factory

CHAT = str(p.USER["id"])


async def test_photo_and_document_are_fetched_with_get_file(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    image = png(4, 3)
    bot.add_file("AgAC-large", "photos/file_12.jpg", image)
    bot.add_file("BQAC-doc", "documents/file_13.pdf", PDF)
    assert (await channel.post(p.photo_update(1, 21, "Вот фото домика"))).status_code == 200
    assert (await channel.post(p.document_update(2, 22))).status_code == 200
    [conversation] = await conversations(factory, t)
    photo_msg, doc_msg = await messages(factory, t, conversation["id"])
    assert photo_msg["text"] == "Вот фото домика"
    assert doc_msg["text"] == "Скан паспорта"
    assert [a["status"] for a in photo_msg["attachments"] + doc_msg["attachments"]] == [
        "pending",
        "pending",
    ]

    async def settled() -> bool:
        rows = await messages(factory, t, conversation["id"])
        return all(a["status"] != "pending" for m in rows for a in m["attachments"])

    await run_jobs_until(worker, settled)
    # the largest of the photo's sizes was asked for
    assert sorted(c["file_id"] for c in bot.called("getFile")) == ["AgAC-large", "BQAC-doc"]
    assert sorted(bot.downloads) == ["documents/file_13.pdf", "photos/file_12.jpg"]
    photo_msg, doc_msg = await messages(factory, t, conversation["id"])
    [photo] = photo_msg["attachments"]
    [doc] = doc_msg["attachments"]
    assert (photo["status"], photo["content_type"], photo["size"]) == (
        "stored",
        "image/png",  # sniffed from the bytes, not the declared image/jpeg
        len(image),
    )
    assert (await factory.client.get(photo["url"], headers=t.operator)).content == image
    assert doc["status"] == "stored" and doc["filename"] == "passport.pdf"
    assert (await factory.client.get(doc["url"], headers=t.operator)).content == PDF


async def test_a_file_telegram_no_longer_has_fails_with_the_reason(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    assert (await channel.post(p.photo_update(1, 21, None))).status_code == 200
    [conversation] = await conversations(factory, t)

    async def settled() -> bool:
        rows = await messages(factory, t, conversation["id"])
        return all(a["status"] != "pending" for m in rows for a in m["attachments"])

    await run_jobs_until(worker, settled)
    [msg] = await messages(factory, t, conversation["id"])
    assert msg["text"] == ""
    [photo] = msg["attachments"]
    assert photo["status"] == "failed"
    assert "invalid file_id" in photo["failure_reason"]


async def test_start_and_edits_are_kept_with_their_meaning(
    factory: Factory, bot: FakeBotApi
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    assert (await channel.post(p.text_update(1, 1, "/start promo-avito"))).status_code == 200
    assert (await channel.post(p.text_update(2, 2, "Хочу забронировать"))).status_code == 200
    assert (
        await channel.post(p.edited_update(3, 2, "Хочу забронировать на май"))
    ).status_code == 200
    # the same edit redelivered is stored once
    assert (
        await channel.post(p.edited_update(3, 2, "Хочу забронировать на май"))
    ).status_code == 200
    [conversation] = await conversations(factory, t)
    r = await factory.client.get(
        f"/api/v1/contacts/{conversation['contact_id']}", headers=t.operator
    )
    assert r.json()["name"] == "Ирина Соколова"
    start, original, edit = await messages(factory, t, conversation["id"])
    assert start["meta"]["command"] == "start"
    assert start["meta"]["start_param"] == "promo-avito"
    assert original["external_id"] == f"{CHAT}:2"
    assert edit["external_id"] == f"{CHAT}:2:edit:1765000300"
    assert edit["text"] == "Хочу забронировать на май"
    assert edit["meta"]["edited"] is True
    assert edit["meta"]["original_external_id"] == f"{CHAT}:2"


async def test_long_polling_keeps_its_offset(factory: Factory, bot: FakeBotApi) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot, mode="poll")
    services = factory.services
    async with services.db.reader() as session:
        runtime = await channels.runtime_for(
            session, TenantScope(t.id), services.secret_box, uuid.UUID(channel.id)
        )
    bot.push_update(p.text_update(500, 1, "Первое"))
    bot.push_update(p.channel_post(501))
    bot.push_update(p.text_update(502, 2, "Второе"))
    assert await poll_once(services.db, runtime, services.adapter_options, long_poll=0) == 3
    first = bot.called("getUpdates")[0]
    assert "offset" not in first
    assert first["allowed_updates"] == ["message", "edited_message", "callback_query"]
    async with services.db.reader() as session:
        state = await channels.load_state(session, TenantScope(t.id), runtime.id)
    assert state == {"offset": 503}
    [conversation] = await conversations(factory, t)
    assert [m["text"] for m in await messages(factory, t, conversation["id"])] == [
        "Первое",
        "Второе",
    ]
    # the next round asks from the saved offset: nothing is read twice
    assert await poll_once(services.db, runtime, services.adapter_options, long_poll=0) == 0
    assert bot.called("getUpdates")[1]["offset"] == 503

    # the long-running poller (what `frontline telegram poll` runs) picks up new updates
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_pollers(services.db, services.secret_box, services.adapter_options, stop)
    )
    bot.push_update(p.text_update(503, 3, "Третье"))
    async with asyncio.timeout(10):
        while len(await messages(factory, t, conversation["id"])) < 3:
            await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(task, 10) == 1
    async with services.db.reader() as session:
        state = await channels.load_state(session, TenantScope(t.id), runtime.id)
    assert state == {"offset": 504}


async def test_start_is_answered_with_the_welcome_not_the_ai(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    assert (await channel.post(p.text_update(1, 1, "/start"))).status_code == 200
    await worker.run_until_idle()
    [sent] = bot.called("sendMessage")
    assert sent["text"].startswith("Здравствуйте! Напишите ваш вопрос")
    [conversation] = await conversations(factory, t)
    start, welcome = await messages(factory, t, conversation["id"])
    assert (start["text"], welcome["sender_type"], welcome["delivery_status"]) == (
        "/start",
        "ai",
        "sent",
    )
    r = await factory.client.get("/api/v1/jobs", headers=t.owner)
    assert [j for j in r.json() if j["kind"] == "ai.reply"] == []

    # an English customer, and the same /start redelivered: one greeting
    english = {**p.USER, "id": 8080, "language_code": "en"}
    for _ in range(2):
        r = await channel.post(p.text_update(2, 1, "/start", user=english))
        assert r.status_code == 200
    await worker.run_until_idle()
    assert [s["text"][:6] for s in bot.called("sendMessage")] == ["Здравс", "Hello!"]

    # the channel's own welcome text
    r = await factory.client.patch(
        f"/api/v1/channels/{channel.id}",
        headers=t.owner,
        json={"config": {"welcome_text": "Добро пожаловать в Demo Tours!"}},
    )
    assert r.status_code == 200, r.text
    other = {**p.USER, "id": 9090}
    assert (await channel.post(p.text_update(3, 1, "/start x", user=other))).status_code == 200
    await worker.run_until_idle()
    assert bot.called("sendMessage")[-1]["text"] == "Добро пожаловать в Demo Tours!"


async def test_twenty_concurrent_redeliveries_of_an_update_from_a_known_chat_store_one(
    factory: Factory, bot: FakeBotApi
) -> None:
    """Telegram redelivers an update it got no answer for: from a chat already known (the
    Core path, no ORM session) twenty concurrent copies store one message."""
    from sqlalchemy import func, select

    from frontline.models import Message

    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    assert (await channel.post(p.text_update(700, 70, "Здравствуйте"))).status_code == 200
    update = p.text_update(701, 71, "Сколько стоит тур?")
    responses = await asyncio.gather(*(channel.post(update) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    async with factory.services.db.reader() as s:
        texts = (
            await s.execute(
                select(Message.text, func.count())
                .where(Message.tenant_id == t.id, Message.sender_type == "contact")
                .group_by(Message.text)
            )
        ).all()
    assert sorted(texts) == [("Здравствуйте", 1), ("Сколько стоит тур?", 1)]
