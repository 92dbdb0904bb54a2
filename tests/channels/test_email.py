"""The e-mail channel end to end: the signed inbound webhook, threading, and replies sent by
the real job worker to a real SMTP server (aiosmtpd) listening on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from frontline.jobs.worker import Worker
from frontline.kit.crypto import sign
from frontline.models import Contact, Conversation, Job, Message
from tests.conftest import Factory, TenantFixture

CUSTOMER = "anna@customer.example.org"


def msgid() -> str:
    return f"<{uuid.uuid4().hex}@customer.example.org>"


def mail(**fields: Any) -> dict[str, Any]:
    """An inbound webhook body; ``fields`` override the defaults."""
    body: dict[str, Any] = {
        "from": CUSTOMER,
        "from_name": "Anna Petrova",
        "to": "support@example.com",
        "subject": "Room for two",
        "text": "Hello, is the room free on Friday?",
        "html": "",
        "message_id": msgid(),
        "in_reply_to": None,
        "references": None,
    }
    body.update(fields)
    return body


async def post_mail(
    factory: Factory,
    t: TenantFixture,
    payload: dict[str, Any] | bytes,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    signed: bool = True,
    channel_id: str | None = None,
) -> Any:
    """POST to the e-mail webhook, signed with the channel secret unless told otherwise."""
    body = (
        payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    )
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Frontline-Signature"] = signature or sign(
            secret or t.email_channel_secret, body, timestamp
        )
    return await factory.client.post(
        f"/api/v1/webhooks/email/{channel_id or t.email_channel_id}", content=body, headers=headers
    )


async def accepted(factory: Factory, t: TenantFixture, payload: dict[str, Any]) -> dict[str, Any]:
    r = await post_mail(factory, t, payload)
    assert r.status_code == 202, r.text
    data: dict[str, Any] = r.json()
    assert data["duplicate"] is False
    return data


async def counts(factory: Factory) -> dict[str, int]:
    async with factory.services.db.transaction() as s:
        return {
            model.__tablename__: (
                await s.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in (Message, Contact, Conversation, Job)
        }


async def messages_of(
    factory: Factory, t: TenantFixture, conversation_id: int
) -> list[dict[str, Any]]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()
    return data


async def message(
    factory: Factory, t: TenantFixture, conversation_id: int, message_id: int
) -> dict[str, Any]:
    found = [m for m in await messages_of(factory, t, conversation_id) if m["id"] == message_id]
    assert len(found) == 1
    return found[0]


async def reply(
    factory: Factory, t: TenantFixture, conversation_id: int, text: str
) -> dict[str, Any]:
    r = await factory.client.post(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator, json={"text": text}
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    assert data["delivery_status"] == "queued"
    return data


async def jobs(
    factory: Factory, t: TenantFixture, status: str | None = None
) -> list[dict[str, Any]]:
    params = {"status": status} if status else {}
    r = await factory.client.get("/api/v1/jobs", headers=t.owner, params=params)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()
    return data


# --- a real SMTP server -------------------------------------------------------------------


@dataclass
class MailSink:
    """aiosmtpd handler: records accepted mail; scripted replies refuse RCPT or DATA."""

    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    attempts: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.attempts += 1
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        content = (
            envelope.content
            if isinstance(envelope.content, bytes)
            else str(envelope.content).encode()
        )
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp() -> AsyncIterator[MailSink]:
    sink = MailSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="mx.test", loop=loop), "127.0.0.1", 0
    )
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def run_jobs_until(worker: Worker, done: Any, timeout: float = 2.0) -> None:
    """Run the worker (backoff in tests is 0.01-0.05 s) until ``done()`` is true."""
    deadline = time.monotonic() + timeout
    while True:
        await worker.run_until_idle()
        if await done():
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# --- inbound webhook -----------------------------------------------------------------------


async def test_signed_email_is_accepted_and_stored(factory: Factory) -> None:
    t = await factory.tenant()
    body = mail(text="  Здравствуйте! Есть ли свободный номер?  ", subject="Бронь")
    data = await accepted(factory, t, body)
    r = await factory.client.get(
        f"/api/v1/conversations/{data['conversation_id']}", headers=t.operator
    )
    assert r.status_code == 200, r.text
    conversation = r.json()
    assert conversation["subject"] == "Бронь"
    [stored] = conversation["messages"]
    assert stored["id"] == data["message_id"]
    assert stored["sender_type"] == "contact"
    assert stored["text"] == "Здравствуйте! Есть ли свободный номер?"
    assert stored["external_id"] == body["message_id"]
    assert stored["delivery_status"] == "received"
    r = await factory.client.get(
        f"/api/v1/contacts/{conversation['contact_id']}", headers=t.operator
    )
    assert r.status_code == 200, r.text
    assert r.json()["email"] == CUSTOMER
    assert r.json()["name"] == "Anna Petrova"


async def test_redelivered_message_id_is_a_duplicate(factory: Factory) -> None:
    t = await factory.tenant()
    body = mail()
    first = await accepted(factory, t, body)
    before = await counts(factory)
    # a redelivery, even with a fresh signature and a changed body, is a no-op
    again = await post_mail(factory, t, {**body, "text": "resent"})
    assert again.status_code == 200, again.text
    assert again.json() == {**first, "duplicate": True}
    assert await counts(factory) == before


@pytest.mark.parametrize(
    "case",
    ["wrong_secret", "missing_header", "expired", "future", "tampered_body", "malformed_header"],
)
async def test_bad_signature_is_rejected_and_writes_nothing(factory: Factory, case: str) -> None:
    t = await factory.tenant()
    before = await counts(factory)
    body = json.dumps(mail()).encode()
    now = int(time.time())
    variants: dict[str, dict[str, Any]] = {
        "wrong_secret": {"secret": "flc_not-the-secret"},
        "missing_header": {"signed": False},
        "expired": {"timestamp": now - 301},
        "future": {"timestamp": now + 400},
        "tampered_body": {"signature": sign(t.email_channel_secret, body + b" ")},
        "malformed_header": {"signature": "v1=deadbeef"},
    }
    kwargs = variants[case]
    r = await post_mail(factory, t, body, **kwargs)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    assert await counts(factory) == before


async def test_signature_of_another_channel_is_rejected(factory: Factory) -> None:
    t = await factory.tenant()
    before = await counts(factory)
    r = await post_mail(factory, t, mail(), secret=t.api_channel_secret)
    assert r.status_code == 401
    assert await counts(factory) == before


async def test_unknown_or_wrong_type_channel_is_404(factory: Factory) -> None:
    t = await factory.tenant()
    before = await counts(factory)
    r = await post_mail(factory, t, mail(), channel_id=str(uuid.uuid4()))
    assert r.status_code == 404, r.text
    # the API channel's id is not an e-mail webhook
    r = await post_mail(
        factory, t, mail(), channel_id=t.api_channel_id, secret=t.api_channel_secret
    )
    assert r.status_code == 404, r.text
    assert await counts(factory) == before


async def test_malformed_json_is_422_with_fields(factory: Factory) -> None:
    t = await factory.tenant()
    before = await counts(factory)
    r = await post_mail(factory, t, b'{"from": "anna@customer.example.org", "text": ')
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"][0]["loc"] == ["body"]
    assert error["fields"][0]["type"] == "json_invalid"
    assert await counts(factory) == before


async def test_invalid_payload_is_422_with_fields(factory: Factory) -> None:
    t = await factory.tenant()
    before = await counts(factory)
    r = await post_mail(factory, t, mail(**{"from": "not an address"}))
    assert r.status_code == 422, r.text
    fields = r.json()["error"]["fields"]
    assert ["from"] in [f["loc"] for f in fields]
    body = mail()
    del body["from"]
    r = await post_mail(factory, t, body)
    assert r.status_code == 422, r.text
    assert ["from"] in [f["loc"] for f in r.json()["error"]["fields"]]
    r = await post_mail(factory, t, mail(text="", html="   "))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"][0]["loc"] == ["body", "text"]
    r = await post_mail(factory, t, b'["a list"]')
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"]
    assert await counts(factory) == before


async def test_html_only_email_is_converted_to_text(factory: Factory) -> None:
    t = await factory.tenant()
    html = (
        "<html><head><title>Ignored title</title><style>p { color: red; }</style></head>"
        "<body><script>alert('x')</script><p>Hello&nbsp;there,</p>"
        "<div>We need a <b>room</b> for 2 &amp; a dog.</div><style>.x{}</style></body></html>"
    )
    data = await accepted(factory, t, mail(text="", html=html))
    [stored] = await messages_of(factory, t, data["conversation_id"])
    assert stored["text"] == "Hello there,\n\nWe need a room for 2 & a dog."
    for dropped in ("alert", "color", "Ignored title", "<", ".x"):
        assert dropped not in stored["text"]


async def test_email_without_message_id_is_deduplicated_by_content(factory: Factory) -> None:
    t = await factory.tenant()
    body = json.dumps(mail(message_id=None)).encode()
    first = await post_mail(factory, t, body)
    assert first.status_code == 202, first.text
    again = await post_mail(factory, t, body)
    assert again.status_code == 200, again.text
    assert again.json()["message_id"] == first.json()["message_id"]


# --- threading -----------------------------------------------------------------------------


async def test_threading_by_in_reply_to_and_references(factory: Factory) -> None:
    t = await factory.tenant()
    first = mail(subject="Booking")
    a = await accepted(factory, t, first)
    # same sender, no references: a new thread
    second = mail(subject="Another question")
    b = await accepted(factory, t, second)
    assert b["conversation_id"] != a["conversation_id"]
    # In-Reply-To names the first e-mail
    c = await accepted(factory, t, mail(subject="Re: Booking", in_reply_to=first["message_id"]))
    assert c["conversation_id"] == a["conversation_id"]
    # References (a header string with unknown ids too) names the second
    refs = f"<unknown@elsewhere.example> {second['message_id']}"
    d = await accepted(factory, t, mail(subject="Re: Another question", references=refs))
    assert d["conversation_id"] == b["conversation_id"]
    # References as a list, Message-ID given without angle brackets
    e = await accepted(
        factory,
        t,
        mail(
            references=[first["message_id"]], message_id=f"{uuid.uuid4().hex}@customer.example.org"
        ),
    )
    assert e["conversation_id"] == a["conversation_id"]
    # references to nothing we know: a new thread
    f = await accepted(factory, t, mail(in_reply_to="<nobody@nowhere.example>"))
    assert f["conversation_id"] not in (a["conversation_id"], b["conversation_id"])
    thread = await messages_of(factory, t, a["conversation_id"])
    assert [m["id"] for m in thread] == [a["message_id"], c["message_id"], e["message_id"]]


async def test_threading_is_per_channel(factory: Factory) -> None:
    """A reference to a message of another channel (the same Message-ID may reach several
    mailboxes) does not thread into that channel's conversation, and the same Message-ID is
    no duplicate there."""
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={"type": "email", "name": "Sales", "config": {"from_address": "sales@example.com"}},
    )
    assert r.status_code == 201, r.text
    sales_id, sales_secret = r.json()["id"], r.json()["secret"]
    first = mail()
    a = await accepted(factory, t, first)
    r = await post_mail(
        factory, t, mail(in_reply_to=first["message_id"]), channel_id=sales_id, secret=sales_secret
    )
    assert r.status_code == 202, r.text
    assert r.json()["conversation_id"] != a["conversation_id"]
    r = await post_mail(factory, t, first, channel_id=sales_id, secret=sales_secret)
    assert r.status_code == 202, r.text
    assert r.json()["conversation_id"] != a["conversation_id"]
    assert [m["id"] for m in await messages_of(factory, t, a["conversation_id"])] == [
        a["message_id"]
    ]


# --- SMTP out ------------------------------------------------------------------------------


async def test_operator_reply_is_sent_by_smtp_and_threads_back(
    factory: Factory, worker: Worker, smtp: MailSink
) -> None:
    t = await factory.tenant(smtp_port=smtp.port)
    first = mail(subject="Room for two")
    inbound = await accepted(factory, t, first)
    conversation_id = inbound["conversation_id"]
    out = await reply(factory, t, conversation_id, "Yes, the room is free on Friday.")

    assert await worker.run_until_idle() == 1
    assert len(smtp.received) == 1
    sent = smtp.received[0]
    assert smtp.envelopes == [(f"support@{t.slug}.example.com", [CUSTOMER])]
    assert parseaddr(str(sent["From"])) == ("Support", f"support@{t.slug}.example.com")
    assert parseaddr(str(sent["To"])) == ("Anna Petrova", CUSTOMER)
    assert str(sent["Subject"]) == "Re: Room for two"
    our_id = str(sent["Message-ID"])
    assert our_id.startswith("<") and our_id.endswith(f"@{t.slug}.example.com>")
    assert str(sent["In-Reply-To"]) == first["message_id"]
    assert first["message_id"] in str(sent["References"]).split()
    assert sent["Date"] is not None
    assert sent.get_content().strip() == "Yes, the room is free on Friday."

    stored = await message(factory, t, conversation_id, out["id"])
    assert stored["delivery_status"] == "sent"
    assert stored["failure_reason"] is None
    assert stored["external_id"] == our_id
    [job] = await jobs(factory, t)
    assert job["status"] == "done"
    assert job["attempts"] == 1

    # the job already ran: running the worker again sends nothing
    assert await worker.run_until_idle() == 0
    assert len(smtp.received) == 1

    # the customer answers our e-mail: it threads into the same conversation
    answer = mail(
        subject="Re: Room for two",
        text="Great, please book it.",
        in_reply_to=our_id,
        references=f"{first['message_id']} {our_id}",
    )
    threaded = await accepted(factory, t, answer)
    assert threaded["conversation_id"] == conversation_id
    # only In-Reply-To (mail clients that drop References) threads as well
    last = mail(subject="Re: Room for two", in_reply_to=our_id)
    only_reply_to = await accepted(factory, t, last)
    assert only_reply_to["conversation_id"] == conversation_id

    # the next reply answers the newest customer e-mail and carries the whole thread
    await reply(factory, t, conversation_id, "Booked.")
    assert await worker.run_until_idle() == 1
    second = smtp.received[1]
    assert str(second["In-Reply-To"]) == last["message_id"]
    references = str(second["References"]).split()
    assert references == [first["message_id"], our_id, answer["message_id"], last["message_id"]]
    assert str(second["Subject"]) == "Re: Room for two"
    assert str(second["Message-ID"]) != our_id


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("", "Ваше обращение"),
        ("   ", "Ваше обращение"),
        ("RE: Бронь на июль", "RE: Бронь на июль"),
        ("Бронь на июль", "Re: Бронь на июль"),
    ],
    ids=["empty", "blank", "already-re", "plain"],
)
async def test_reply_subject(
    factory: Factory, worker: Worker, smtp: MailSink, subject: str, expected: str
) -> None:
    t = await factory.tenant(smtp_port=smtp.port)
    inbound = await accepted(factory, t, mail(subject=subject))
    await reply(factory, t, inbound["conversation_id"], "Hello")
    assert await worker.run_until_idle() == 1
    assert str(smtp.received[0]["Subject"]) == expected


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_smtp_4xx_is_retried(
    factory: Factory, worker: Worker, smtp: MailSink, stage: str
) -> None:
    t = await factory.tenant(smtp_port=smtp.port)
    inbound = await accepted(factory, t, mail())
    replies = smtp.rcpt_replies if stage == "rcpt" else smtp.data_replies
    replies.append("451 4.3.0 try again later")
    out = await reply(factory, t, inbound["conversation_id"], "Answer")

    await worker.run_until_idle(max_rounds=1)  # exactly one attempt
    [job] = await jobs(factory, t)
    assert job["status"] == "queued"
    assert job["attempts"] == 1
    assert "451" in job["last_error"]
    stored = await message(factory, t, inbound["conversation_id"], out["id"])
    assert stored["delivery_status"] == "queued"
    assert smtp.received == []

    async def sent() -> bool:
        m = await message(factory, t, inbound["conversation_id"], out["id"])
        return bool(m["delivery_status"] == "sent")

    await run_jobs_until(worker, sent)
    [job] = await jobs(factory, t)
    assert job["status"] == "done"
    assert job["attempts"] == 2
    assert len(smtp.received) == 1
    stored = await message(factory, t, inbound["conversation_id"], out["id"])
    assert stored["external_id"] == str(smtp.received[0]["Message-ID"])


@pytest.mark.parametrize(
    ("stage", "answer"),
    [("rcpt", "550 5.1.1 no such user"), ("data", "554 5.7.1 message rejected as spam")],
)
async def test_smtp_5xx_fails_permanently(
    factory: Factory, worker: Worker, smtp: MailSink, stage: str, answer: str
) -> None:
    t = await factory.tenant(smtp_port=smtp.port)
    inbound = await accepted(factory, t, mail())
    (smtp.rcpt_replies if stage == "rcpt" else smtp.data_replies).append(answer)
    out = await reply(factory, t, inbound["conversation_id"], "Answer")

    await worker.run_until_idle()
    [job] = await jobs(factory, t, "dead")
    assert job["attempts"] == 1
    assert answer.split(" ", 1)[0] in job["last_error"]
    stored = await message(factory, t, inbound["conversation_id"], out["id"])
    assert stored["delivery_status"] == "failed"
    assert answer.split(" ", 1)[0] in stored["failure_reason"]
    assert answer.rsplit(" ", 1)[1] in stored["failure_reason"]
    assert smtp.received == []
    # dead stays dead: nothing is retried
    await asyncio.sleep(0.06)
    assert await worker.run_until_idle() == 0
    assert smtp.attempts == 1


async def test_unreachable_smtp_server_is_transient(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant(smtp_port=free_port())
    inbound = await accepted(factory, t, mail())
    out = await reply(factory, t, inbound["conversation_id"], "Answer")
    await worker.run_until_idle(max_rounds=1)  # exactly one attempt
    [job] = await jobs(factory, t)
    assert job["status"] == "queued"
    assert job["attempts"] == 1
    assert "SMTP unavailable" in job["last_error"]
    stored = await message(factory, t, inbound["conversation_id"], out["id"])
    assert stored["delivery_status"] == "queued"
    assert stored["failure_reason"] is None
    # it keeps being retried (the test backoff is at most 0.05 s)
    await asyncio.sleep(0.06)
    assert await worker.run_until_idle(max_rounds=1) == 1
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("queued", 2)
    stored = await message(factory, t, inbound["conversation_id"], out["id"])
    assert stored["delivery_status"] == "queued"


async def test_header_injection_in_inbound_fields_is_neutralised(
    factory: Factory, worker: Worker, smtp: MailSink
) -> None:
    """Subject and sender name come from the webhook; line breaks in them must neither add
    headers to our reply nor make it undeliverable."""
    t = await factory.tenant(smtp_port=smtp.port)
    inbound = await accepted(
        factory,
        t,
        mail(
            subject="Hello\r\nBcc: evil@attacker.example",
            from_name="Anna\nBcc: evil@attacker.example",
        ),
    )
    out = await reply(factory, t, inbound["conversation_id"], "Answer")
    await worker.run_until_idle(max_rounds=1)
    stored = await message(factory, t, inbound["conversation_id"], out["id"])
    assert stored["delivery_status"] == "sent", (await jobs(factory, t))[0]["last_error"]
    [sent] = smtp.received
    assert smtp.envelopes[0][1] == [CUSTOMER]
    assert sent["Bcc"] is None
    assert "\n" not in str(sent["Subject"])
    assert str(sent["Subject"]).startswith("Re: Hello")
