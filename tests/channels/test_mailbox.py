"""Mailbox channels end to end against real servers: a private dovecot (mail put in with
IMAP APPEND) and aiosmtpd receiving the replies the job worker sends."""

from __future__ import annotations

import uuid
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from typing import Any

import httpx
import pytest

from frontline.app import build_worker, create_app
from frontline.jobs.worker import Worker
from frontline.settings import Settings
from tests.channels.mailservers import PASSWORD, Dovecot, dovecot_server
from tests.channels.test_email import MailSink, free_port, run_jobs_until, smtp
from tests.conftest import Factory, TenantFixture

__all__ = ["dovecot_server", "smtp"]  # fixtures used by name

CUSTOMER = "ivan@customer.example.ru"


def plain_mail(
    text: str,
    *,
    subject: str = "Вопрос о туре",
    sender: str = CUSTOMER,
    name: str = "Иван Петров",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = formataddr((name, sender))
    msg["To"] = "support@tours.example.com"
    msg["Subject"] = subject
    msg_id = make_msgid(domain="customer.example.ru")
    msg["Message-ID"] = msg_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text)
    return msg.as_bytes(), msg_id


async def mailbox_channel(
    factory: Factory,
    t: TenantFixture,
    server: Dovecot,
    user: str,
    smtp_port: int,
    **overrides: Any,
) -> str:
    config = {
        "from_address": "support@tours.example.com",
        "from_name": "Tours Support",
        "imap_host": "127.0.0.1",
        "imap_port": server.port,
        "imap_security": "none",
        "imap_username": user,
        "imap_password": PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        **overrides,
    }
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={"type": "mailbox", "name": "Support mailbox", "config": config},
    )
    assert r.status_code == 201, r.text
    assert r.json()["config"]["imap_password"] == "**********"
    return str(r.json()["id"])


async def post_mailbox(factory: Factory, t: TenantFixture, **config: Any) -> httpx.Response:
    """Create a mailbox channel with just ``config`` (the caller checks the answer)."""
    return await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={"type": "mailbox", "name": "Mailbox", "config": config},
    )


async def poll(
    factory: Factory, t: TenantFixture, channel_id: str, worker: Worker
) -> dict[str, Any]:
    """Poll now (a job the worker runs) and return what the poll did."""
    r = await factory.client.post(f"/api/v1/channels/{channel_id}/mailbox/poll", headers=t.owner)
    assert r.status_code == 202, r.text
    assert r.json()["channel_id"] == channel_id
    await worker.run_until_idle()
    report: dict[str, Any] = (await status(factory, t, channel_id))["last_report"]
    assert report is not None
    return report


async def status(factory: Factory, t: TenantFixture, channel_id: str) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/channels/{channel_id}/mailbox", headers=t.owner)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def conversations(factory: Factory, t: TenantFixture) -> list[dict[str, Any]]:
    r = await factory.client.get("/api/v1/conversations", headers=t.operator)
    assert r.status_code == 200, r.text
    body = r.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


async def thread(factory: Factory, t: TenantFixture, conversation_id: int) -> list[dict[str, Any]]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()
    return data


async def all_customer_messages(factory: Factory, t: TenantFixture) -> list[dict[str, Any]]:
    found = []
    for c in await conversations(factory, t):
        found += [m for m in await thread(factory, t, c["id"]) if m["sender_type"] == "contact"]
    return sorted(found, key=lambda m: m["id"])


# --- the whole path -------------------------------------------------------------------------


async def test_mail_in_ai_answer_out_threaded(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant(ai=True)
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    before = await status(factory, t, channel_id)
    assert before["healthy"] is None and before["last_poll_at"] is None

    raw, customer_id = plain_mail(
        "Здравствуйте! Хочу узнать про тур.\n\nС уважением,\nИван\n\n"
        "Пн, 7 дек. 2026 г. в 10:00, Support <support@tours.example.com>:\n> Старое письмо\n"
    )
    uid = dovecot_server.append(user, raw)
    report = await poll(factory, t, channel_id, worker)
    assert (report["fetched"], report["stored"], report["error"]) == (1, 1, None)
    assert "\\Seen" in dovecot_server.flags(user, uid)

    [conversation] = await conversations(factory, t)
    [message] = [
        m for m in await thread(factory, t, conversation["id"]) if m["sender_type"] == "contact"
    ]
    assert message["text"] == "Здравствуйте! Хочу узнать про тур."
    assert message["external_id"] == customer_id

    async def replied() -> bool:
        return len(smtp.received) >= 1

    await run_jobs_until(worker, replied, timeout=10)
    sent = smtp.received[0]
    assert sent["To"].addresses[0].addr_spec == CUSTOMER
    assert sent["In-Reply-To"] == customer_id
    assert customer_id in sent["References"]
    assert sent["Subject"] == "Re: Вопрос о туре"
    assert smtp.envelopes[0] == ("support@tours.example.com", [CUSTOMER])
    ai = [m for m in await thread(factory, t, conversation["id"]) if m["sender_type"] == "ai"]
    assert ai and ai[0]["delivery_status"] == "sent"
    assert ai[0]["external_id"] == sent["Message-ID"]

    # the customer answers our mail: the same conversation
    again, _ = plain_mail(
        "А сколько он стоит?",
        subject="Re: Вопрос о туре",
        in_reply_to=sent["Message-ID"],
        references=f"{customer_id} {sent['Message-ID']}",
    )
    dovecot_server.append(user, again)
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    assert len(await conversations(factory, t)) == 1
    texts = [m["text"] for m in await thread(factory, t, conversation["id"])]
    assert "А сколько он стоит?" in texts

    health = await status(factory, t, channel_id)
    assert health["healthy"] is True and health["last_error"] is None
    assert health["stored"] == 2 and health["last_uid"] == uid + 1


# --- charsets, files, robots --------------------------------------------------------------------


def legacy_mail(text: str, subject: str, charset: str, transfer: str) -> bytes:
    body = MIMEText(text, "plain", charset)
    if transfer == "8bit":
        del body["Content-Transfer-Encoding"]
        body.set_payload(text.encode(charset))
        body["Content-Transfer-Encoding"] = "8bit"
    body["From"] = formataddr((str(Header("Пётр", charset)), "petr@example.ru"))
    body["Subject"] = Header(subject, charset)
    body["Message-ID"] = make_msgid(domain="example.ru")
    return body.as_bytes()


async def test_koi8r_and_windows1251_bodies(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    dovecot_server.append(user, legacy_mail("Нужен номер на двоих, ёж.", "Бронь", "koi8-r", "8bit"))
    dovecot_server.append(
        user, legacy_mail("Сколько стоит экскурсия?", "Цена", "windows-1251", "base64")
    )
    assert (await poll(factory, t, channel_id, worker))["stored"] == 2
    texts = [m["text"] for m in await all_customer_messages(factory, t)]
    assert texts == ["Нужен номер на двоих, ёж.", "Сколько стоит экскурсия?"]
    subjects = sorted(c["subject"] for c in await conversations(factory, t))
    assert subjects == ["Бронь", "Цена"]


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def test_attachments_are_kept(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    msg = EmailMessage()
    msg["From"] = CUSTOMER
    msg["Subject"] = "Документы"
    msg["Message-ID"] = make_msgid()
    msg.set_content("Паспорт и фото во вложении.")
    msg.add_alternative("<p>Паспорт и <b>фото</b> во вложении.</p>", subtype="html")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="паспорт.pdf")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="photo.png")
    dovecot_server.append(user, msg.as_bytes())
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    [message] = await all_customer_messages(factory, t)
    assert message["text"] == "Паспорт и фото во вложении."
    files = message["attachments"]
    assert [(f["filename"], f["content_type"], f["status"]) for f in files] == [
        ("паспорт.pdf", "application/pdf", "stored"),
        ("photo.png", "image/png", "stored"),
    ]
    for f, data in zip(files, (PDF, PNG), strict=True):
        r = await factory.client.get(f["url"], headers=t.operator)
        assert r.status_code == 200 and r.content == data


async def test_a_mail_over_the_limit_is_noted_not_downloaded(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(
        factory, t, dovecot_server, user, smtp.port, max_message_bytes=4096
    )
    msg = EmailMessage()
    msg["From"] = formataddr(("Иван", CUSTOMER))
    msg["Subject"] = "Сканы"
    msg["Message-ID"] = make_msgid()
    msg.set_content("Большие файлы")
    msg.add_attachment(PDF * 500, maintype="application", subtype="pdf", filename="big.pdf")
    dovecot_server.append(user, msg.as_bytes())
    dovecot_server.append(user, plain_mail("маленькое")[0])
    assert (await poll(factory, t, channel_id, worker))["stored"] == 2
    big, small = await all_customer_messages(factory, t)
    assert big["text"].startswith("Письмо слишком большое (0.0 МБ)")
    assert "too large" in big["text"] and big["attachments"] == []
    assert big["external_id"] == msg["Message-ID"]
    assert small["text"] == "маленькое"


async def test_auto_replies_and_own_mail_start_nothing(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    dovecot_server.append(
        user, plain_mail("I am on vacation", headers={"Auto-Submitted": "auto-replied"})[0]
    )
    dovecot_server.append(user, plain_mail("copy", sender="support@tours.example.com")[0])
    dovecot_server.append(user, plain_mail("Настоящий вопрос")[0])
    report = await poll(factory, t, channel_id, worker)
    assert (report["stored"], report["skipped"]) == (1, 2)
    assert [m["text"] for m in await all_customer_messages(factory, t)] == ["Настоящий вопрос"]
    health = await status(factory, t, channel_id)
    assert health["skipped"] == 2 and "sent by this mailbox" in health["last_skip"]


# --- exactly once ----------------------------------------------------------------------------


async def test_first_sync_takes_unseen_mail_only(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    dovecot_server.append(user, plain_mail("old and read")[0], seen=True)
    dovecot_server.append(user, plain_mail("waiting unread")[0])
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    dovecot_server.append(user, plain_mail("new, already read on a phone")[0], seen=True)
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    texts = [m["text"] for m in await all_customer_messages(factory, t)]
    assert texts == ["waiting unread", "new, already read on a phone"]


async def test_restart_fetches_nothing_twice(
    factory: Factory, worker: Worker, settings: Settings, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    # flags untouched: only the remembered UID keeps mail from being taken again
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port, mark_seen=False)
    for i in range(3):
        dovecot_server.append(user, plain_mail(f"письмо {i}")[0])
    assert (await poll(factory, t, channel_id, worker))["stored"] == 3
    assert (await poll(factory, t, channel_id, worker))["fetched"] == 0

    dovecot_server.append(user, plain_mail("после перезапуска")[0])
    # a new process over the same database (the poller keeps nothing in memory)
    restarted = create_app(settings, run_worker=False)
    try:
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            again = Factory(restarted.state.services, c)
            new_worker = build_worker(restarted.state.services)
            report = await poll(again, t, channel_id, new_worker)
            assert (report["fetched"], report["stored"]) == (1, 1)
            assert (await poll(again, t, channel_id, new_worker))["fetched"] == 0
    finally:
        await restarted.state.services.aclose()
    texts = [m["text"] for m in await all_customer_messages(factory, t)]
    assert texts == ["письмо 0", "письмо 1", "письмо 2", "после перезапуска"]


@pytest.mark.parametrize("mark_seen", [True, False])
async def test_uidvalidity_change_resynchronises_without_duplicates(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink, mark_seen: bool
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(
        factory, t, dovecot_server, user, smtp.port, mark_seen=mark_seen
    )
    dovecot_server.append(user, plain_mail("до перестройки")[0])
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    old = dovecot_server.uidvalidity(user)
    dovecot_server.set_uidvalidity(user, old + 1000)
    dovecot_server.append(user, plain_mail("после перестройки")[0])
    report = await poll(factory, t, channel_id, worker)
    assert report["resynchronised"] is True and report["error"] is None
    assert report["stored"] == 1
    # unseen old mail is offered again under the new UIDVALIDITY: its Message-ID is known
    assert report["duplicates"] == (0 if mark_seen else 1)
    texts = [m["text"] for m in await all_customer_messages(factory, t)]
    assert texts == ["до перестройки", "после перестройки"]
    health = await status(factory, t, channel_id)
    assert health["uidvalidity"] == old + 1000 and health["resyncs"] == 1


# --- health ------------------------------------------------------------------------------------


async def test_bad_credentials_show_in_the_channel_health(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(
        factory, t, dovecot_server, user, smtp.port, imap_password="wrong"
    )
    dovecot_server.append(user, plain_mail("hello")[0])
    report = await poll(factory, t, channel_id, worker)
    assert report["error"].startswith("AuthFailed: IMAP login refused")
    health = await status(factory, t, channel_id)
    assert health["healthy"] is False
    assert "AUTHENTICATIONFAILED" in health["last_error"]
    assert health["last_error_at"] is not None
    # the admin fixes the password: the next poll works and the error clears
    r = await factory.client.patch(
        f"/api/v1/channels/{channel_id}",
        headers=t.owner,
        json={"config": {"imap_password": PASSWORD}},
    )
    assert r.status_code == 200, r.text
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    health = await status(factory, t, channel_id)
    assert health["healthy"] is True and health["last_error"] is None


# "Поддержка" in IMAP's modified UTF-7, as mail clients create it
SUPPORT_FOLDER = "&BB8EPgQ0BDQENQRABDYEOgQw-"


async def test_a_cyrillic_folder_and_a_missing_one(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    conn = dovecot_server.connect(user)
    try:
        assert conn.create(SUPPORT_FOLDER)[0] == "OK"
    finally:
        conn.logout()
    dovecot_server.append(user, plain_mail("в папке поддержки")[0], folder=SUPPORT_FOLDER)
    dovecot_server.append(user, plain_mail("во входящих")[0])
    channel_id = await mailbox_channel(
        factory, t, dovecot_server, user, smtp.port, imap_folder="Поддержка"
    )
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    assert [m["text"] for m in await all_customer_messages(factory, t)] == ["в папке поддержки"]

    missing = await mailbox_channel(factory, t, dovecot_server, user, smtp.port, imap_folder="Nope")
    report = await poll(factory, t, missing, worker)
    assert report["error"].startswith("BadRequest: IMAP folder 'Nope' cannot be opened")
    assert (await status(factory, t, missing))["healthy"] is False


async def test_unreachable_server_is_reported(
    factory: Factory, worker: Worker, smtp: MailSink
) -> None:
    t = await factory.tenant()
    r = await post_mailbox(
        factory,
        t,
        from_address="support@tours.example.com",
        imap_host="127.0.0.1",
        imap_port=free_port(),
        imap_security="none",
        imap_username="x",
        imap_password="y",
    )
    assert r.status_code == 201, r.text
    channel_id = r.json()["id"]
    report = await poll(factory, t, channel_id, worker)
    assert report["error"].startswith("Unavailable: IMAP 127.0.0.1")
    assert (await status(factory, t, channel_id))["healthy"] is False


async def test_bad_config_and_wrong_channel_are_4xx(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    r = await post_mailbox(factory, t, from_address="a@b.example")
    assert r.status_code == 422
    assert "imap_host" in r.json()["error"]["message"]
    r = await post_mailbox(
        factory,
        t,
        from_address="a@b.example",
        imap_host="imap.example",
        imap_username="a",
        imap_password="b",
        imap_security="ssl3",
    )
    assert r.status_code == 422 and "imap_security" in r.json()["error"]["message"]
    # the e-mail webhook channel has no mailbox; an unknown id is 404 too
    for channel_id in (t.email_channel_id, str(uuid.uuid4())):
        r = await factory.client.get(f"/api/v1/channels/{channel_id}/mailbox", headers=t.owner)
        assert r.status_code == 404
    # operators cannot read a mailbox's health
    r = await factory.client.get(
        f"/api/v1/channels/{t.email_channel_id}/mailbox", headers=t.operator
    )
    assert r.status_code == 403
