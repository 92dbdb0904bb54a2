"""Files on the inbound path (API channel, e-mail webhook), stored and served, on SQLite and
PostgreSQL: inline base64 files are stored with the message, sniffed, size-limited; staff
read them in their own workspace only; bad input is a 422 that names the field."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from frontline.channels.email.adapter import SIGNATURE_HEADER
from frontline.kit.crypto import sign
from frontline.models import Attachment, Message
from frontline.settings import Settings
from tests.attachments.conftest import EXE, HTML, PDF, b64, png
from tests.conftest import Factory, TenantFixture

SMALL_LIMIT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small file limit, so "too large" fits in a test's request body."""
    return settings.model_copy(update={"attachments_max_bytes": SMALL_LIMIT})


def api_message(*files: dict[str, Any], text: str = "См. вложение") -> dict[str, Any]:
    return {
        "external_id": uuid.uuid4().hex,
        "contact": {"external_id": "cust-1", "name": "Анна"},
        "text": text,
        "attachments": list(files),
    }


async def post_api(factory: Factory, t: TenantFixture, body: dict[str, Any]) -> Any:
    return await factory.client.post(
        f"/api/v1/channels/{t.api_channel_id}/messages", json=body, headers=t.api_channel
    )


async def post_email(factory: Factory, t: TenantFixture, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    return await factory.client.post(
        f"/api/v1/webhooks/email/{t.email_channel_id}",
        content=raw,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(t.email_channel_secret, raw),
        },
    )


async def messages_of(factory: Factory, t: TenantFixture, conversation_id: int) -> list[Any]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    return list(r.json())


async def counts(factory: Factory) -> tuple[int, int]:
    async with factory.services.db.reader() as session:
        messages = (await session.execute(select(func.count()).select_from(Message))).scalar()
        files = (await session.execute(select(func.count()).select_from(Attachment))).scalar()
    return int(messages or 0), int(files or 0)


async def test_api_files_are_stored_sniffed_and_served(factory: Factory) -> None:
    t = await factory.tenant()
    image, sent = (
        png(),
        api_message(
            # the declared type is a lie: the bytes decide
            {"filename": "photo.png", "content_type": "application/pdf", "data": b64(png())},
            {"filename": "../../etc/invoice.pdf", "data": b64(PDF)},
            {"filename": "cute-cat.jpg", "content_type": "image/jpeg", "data": b64(HTML)},
        ),
    )
    r = await post_api(factory, t, sent)
    assert r.status_code == 202, r.text
    accepted = r.json()
    (message,) = await messages_of(factory, t, accepted["conversation_id"])
    files = message["attachments"]
    assert [f["filename"] for f in files] == ["photo.png", "invoice.pdf", "cute-cat.jpg"]
    assert [f["content_type"] for f in files] == ["image/png", "application/pdf", "text/html"]
    assert [f["status"] for f in files] == ["stored"] * 3
    assert [f["inline"] for f in files] == [True, False, False]
    assert (
        files[0]["size"] == len(image)
        and files[0]["url"] == f"/api/v1/attachments/{files[0]['id']}"
    )

    r = await factory.client.get(files[0]["url"], headers=t.operator)
    assert r.status_code == 200 and r.content == image
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline;")
    assert r.headers["x-content-type-options"] == "nosniff"
    r = await factory.client.get(files[1]["url"], headers=t.operator)
    assert r.content == PDF and r.headers["content-disposition"].startswith("attachment;")
    # HTML is kept, but never served as a page
    r = await factory.client.get(files[2]["url"], headers=t.operator)
    assert r.content == HTML
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in r.headers["content-security-policy"]

    # stored under a content-addressed key, in the tenant's folder
    async with factory.services.db.reader() as session:
        row = (
            await session.execute(select(Attachment).where(Attachment.id == files[0]["id"]))
        ).scalar_one()
    assert row.sha256 == hashlib.sha256(image).hexdigest()
    assert row.storage_key == f"{t.id.hex}/{row.sha256[:2]}/{row.sha256}"
    assert row.message_id == accepted["message_id"] and row.provider_ref is None

    # the conversation view carries them too; a redelivery stores nothing new
    r = await factory.client.get(
        f"/api/v1/conversations/{accepted['conversation_id']}", headers=t.operator
    )
    assert [f["id"] for f in r.json()["messages"][0]["attachments"]] == [f["id"] for f in files]
    before = await counts(factory)
    again = await post_api(factory, t, sent)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await counts(factory) == before


async def test_another_tenants_file_is_404(factory: Factory) -> None:
    mine, theirs = await factory.tenant(), await factory.tenant()
    r = await post_api(factory, mine, api_message({"filename": "a.pdf", "data": b64(PDF)}))
    (message,) = await messages_of(factory, mine, r.json()["conversation_id"])
    url = message["attachments"][0]["url"]
    r = await factory.client.get(url, headers=theirs.operator)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await factory.client.get(url)).status_code == 401
    assert (
        await factory.client.get("/api/v1/attachments/999999", headers=mine.operator)
    ).status_code == 404


async def test_files_over_the_limit_fail_and_the_message_is_kept(factory: Factory) -> None:
    t = await factory.tenant()
    limit = factory.services.attachments.limits.max_bytes
    assert limit == SMALL_LIMIT
    r = await post_api(
        factory,
        t,
        api_message(
            {"filename": "huge.txt", "data": b64(b"x" * (limit + 1))},
            {"data": b64(EXE), "filename": "setup.exe"},
        ),
    )
    assert r.status_code == 202, r.text
    (message,) = await messages_of(factory, t, r.json()["conversation_id"])
    assert message["text"] == "См. вложение"
    huge, exe = message["attachments"]
    assert huge["status"] == "failed" and huge["failure_reason"] == "too large"
    assert huge["url"] is None and huge["size"] == limit + 1
    # executables are stored, and only ever downloaded
    assert exe["status"] == "stored" and exe["content_type"] == "application/x-msdownload"
    r = await factory.client.get(exe["url"], headers=t.operator)
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith('attachment; filename="setup.exe"')


async def test_bad_files_are_422_naming_the_field_and_write_nothing(factory: Factory) -> None:
    t = await factory.tenant()
    before = await counts(factory)
    r = await post_api(
        factory,
        t,
        api_message(
            {"filename": "a.png", "data": b64(png())}, {"filename": "b", "data": "not base64!!"}
        ),
    )
    assert r.status_code == 422, r.text
    fields = r.json()["error"]["fields"]
    assert ["attachments", "1", "data"] in [f["loc"] for f in fields]
    assert "base64" in fields[0]["message"]
    r = await post_api(factory, t, api_message(*[{"data": b64(b"x")}] * 11))
    assert r.status_code == 422 and any(
        f["loc"] == ["attachments"] for f in r.json()["error"]["fields"]
    )
    r = await post_api(factory, t, api_message(text=""))
    assert r.status_code == 422 and ["text"] in [f["loc"] for f in r.json()["error"]["fields"]]
    assert await counts(factory) == before
    # a file alone (no text) is a message
    r = await post_api(factory, t, api_message({"data": b64(PDF)}, text=""))
    assert r.status_code == 202, r.text


async def test_email_accepts_null_fields_and_files(factory: Factory) -> None:
    t = await factory.tenant()
    body = {
        "from": "anna@example.com",
        "from_name": None,
        "to": None,
        "subject": None,
        "text": "Добрый день! Счёт во вложении.",
        "html": None,
        "message_id": None,
        "in_reply_to": None,
        "references": None,
        "attachments": [{"filename": "счёт.pdf", "content_type": None, "data": b64(PDF)}],
    }
    r = await post_email(factory, t, body)
    assert r.status_code == 202, r.text
    (message,) = await messages_of(factory, t, r.json()["conversation_id"])
    assert message["text"] == "Добрый день! Счёт во вложении."
    (pdf,) = message["attachments"]
    assert pdf["filename"] == "счёт.pdf" and pdf["content_type"] == "application/pdf"
    r = await factory.client.get(pdf["url"], headers=t.operator)
    assert r.content == PDF
    assert "filename*=UTF-8''%D1%81%D1%87%D1%91%D1%82.pdf" in r.headers["content-disposition"]
    # html null with text, and attachments null: still fine
    r = await post_email(
        factory, t, {"from": "b@example.com", "text": "hi", "html": None, "attachments": None}
    )
    assert r.status_code == 202, r.text
    # nothing at all to read is still refused
    r = await post_email(factory, t, {"from": "c@example.com", "text": None, "html": None})
    assert r.status_code == 422


async def test_a_file_alone_still_gets_the_ai_first_line(factory: Factory, worker: Any) -> None:
    """A message with files and no text goes through the AI like any other (it must not
    break the AI job): the customer gets an answer."""
    t = await factory.tenant(ai=True)
    r = await post_api(
        factory, t, api_message({"filename": "photo.png", "data": b64(png())}, text="")
    )
    assert r.status_code == 202, r.text
    await worker.run_until_idle()
    r = await factory.client.get(
        f"/api/v1/conversations/{r.json()['conversation_id']}/messages", headers=t.operator
    )
    kinds = [m["sender_type"] for m in r.json()]
    assert kinds[0] == "contact" and len(kinds) >= 2, kinds
    # (no dead job: without a callback URL the reply is stored as delivered, to be polled)
    r = await factory.client.get("/api/v1/jobs?status=dead", headers=t.owner)
    assert r.status_code == 200, r.text
    assert r.json() == [], r.text
