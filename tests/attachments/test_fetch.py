"""Files that stay at the provider until fetched: a ``pending`` row and an
``attachments.fetch`` job, which downloads through the channel adapter's
``fetch_attachment`` (here a test adapter against a local HTTP server), retries transient
failures with backoff and records a final failure on the row; S3 storage end to end."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import boto3
import httpx
import pytest
from pydantic import SecretStr

from frontline import events
from frontline.app import create_app
from frontline.channels import registry
from frontline.channels.base import (
    ChannelType,
    InboundAttachment,
    InboundContact,
    InboundMessage,
)
from frontline.conversations import flows
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.realtime.broker import Event
from frontline.settings import Settings
from tests.attachments.conftest import PDF, b64, fetching_spec, png
from tests.conftest import Factory, TenantFixture
from tests.kit.keepalive import Answer, Request, keepalive_server


async def receive(factory: Factory, t: TenantFixture, *files: InboundAttachment) -> int:
    inbound = InboundMessage(
        external_id=uuid.uuid4().hex,
        contact=InboundContact(external_id="cust-7", name="Олег"),
        text="Фото квартиры",
        attachments=files,
    )
    result = await flows.ingest(
        factory.services.db,
        TenantScope(t.id),
        uuid.UUID(t.api_channel_id),
        ChannelType.API.value,
        inbound,
    )
    return result.conversation_id


async def attachments_of(factory: Factory, t: TenantFixture, conversation_id: int) -> list[Any]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    return list(r.json()[0]["attachments"])


async def settle(worker: Worker, done: Any, timeout: float = 30.0) -> None:
    """Run jobs (retries come back after their backoff) until ``done()`` holds."""
    async with asyncio.timeout(timeout):
        while True:
            await worker.run_until_idle()
            if await done():
                return
            await asyncio.sleep(0.05)


async def test_provider_files_are_fetched_by_a_job(
    factory: Factory, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, calls = png(3, 3), {"/files/flaky": 0}

    def answer(request: Request) -> Answer:
        if request.path == "/files/photo":
            return Answer(body=image, headers={"Content-Type": "image/png"})
        if request.path == "/files/flaky":  # a 503, then a 429, then the file
            calls["/files/flaky"] += 1
            if calls["/files/flaky"] == 1:
                return Answer(status=503, body={"error": "busy"})
            if calls["/files/flaky"] == 2:
                return Answer(status=429, body={"error": "slow"}, headers={"Retry-After": "0"})
            return Answer(body=PDF, headers={"Content-Type": "application/pdf"})
        return Answer(status=404, body={"error": "no such file"})

    t = await factory.tenant()
    topic_events: list[Event] = []
    sub = factory.services.broker.subscription()
    await sub.add(events.inbox_topic(t.id))
    async with keepalive_server(answer) as files:
        monkeypatch.setitem(registry.REGISTRY, ChannelType.API, fetching_spec(files.base))
        conversation_id = await receive(
            factory,
            t,
            InboundAttachment(filename="flat.png", ref="/files/photo", kind="image"),
            InboundAttachment(filename="contract.pdf", ref="/files/flaky"),
            InboundAttachment(filename="lost.doc", ref="/files/gone"),
        )
        pending = await attachments_of(factory, t, conversation_id)
        assert [a["status"] for a in pending] == ["pending"] * 3
        assert all(a["url"] is None for a in pending)

        async def all_settled() -> bool:
            rows = await attachments_of(factory, t, conversation_id)
            return all(a["status"] != "pending" for a in rows)

        await settle(worker, all_settled)
    photo, contract, lost = await attachments_of(factory, t, conversation_id)
    assert photo["status"] == "stored" and photo["content_type"] == "image/png"
    assert photo["inline"] is True and photo["size"] == len(image)
    r = await factory.client.get(photo["url"], headers=t.operator)
    assert r.content == image
    assert contract["status"] == "stored" and calls["/files/flaky"] == 3
    assert (await factory.client.get(contract["url"], headers=t.operator)).content == PDF
    assert lost["status"] == "failed" and "gone" in lost["failure_reason"]
    # each change went out as message.updated with the message's files as they are now
    async with asyncio.timeout(10):
        while True:
            topic_events.append((await sub.get())[1])
            updated = [e for e in topic_events if e["type"] == events.MESSAGE_UPDATED]
            statuses = {a["id"]: a["status"] for e in updated for a in e["data"]["attachments"]}
            if statuses.get(photo["id"]) == "stored" and statuses.get(lost["id"]) == "failed":
                break
    await sub.close()


async def test_a_channel_that_cannot_fetch_records_the_failure(
    factory: Factory, worker: Worker
) -> None:
    t = await factory.tenant()
    conversation_id = await receive(factory, t, InboundAttachment(ref="file-123"))

    async def failed() -> bool:
        (a,) = await attachments_of(factory, t, conversation_id)
        return bool(a["status"] == "failed")

    await settle(worker, failed)
    (a,) = await attachments_of(factory, t, conversation_id)
    assert "cannot fetch" in a["failure_reason"]


@pytest.fixture
def s3_settings(settings: Settings, s3_server: str, s3_bucket: str) -> Settings:
    return settings.model_copy(
        update={
            "attachments_storage": "s3",
            "attachments_s3_bucket": s3_bucket,
            "attachments_s3_endpoint_url": s3_server,
            "attachments_s3_access_key_id": SecretStr("test"),
            "attachments_s3_secret_access_key": SecretStr("test"),
        }
    )


async def test_files_in_s3_end_to_end(s3_settings: Settings, s3_server: str) -> None:
    """The whole path with the S3 store: an inbound API message with a file, then the file
    read back through the staff endpoint (the bytes come from the S3 server)."""
    app = create_app(s3_settings, run_worker=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            factory = Factory(app.state.services, c)
            t = await factory.tenant()
            r = await c.post(
                f"/api/v1/channels/{t.api_channel_id}/messages",
                headers=t.api_channel,
                json={
                    "external_id": "m-s3",
                    "contact": {"external_id": "c-1"},
                    "text": "",
                    "attachments": [{"filename": "scan.pdf", "data": b64(PDF)}],
                },
            )
            assert r.status_code == 202, r.text
            (a,) = await attachments_of(factory, t, r.json()["conversation_id"])
            assert a["status"] == "stored"
            r = await c.get(a["url"], headers=t.operator)
            assert r.status_code == 200 and r.content == PDF
    finally:
        await app.state.services.aclose()
    # the blob really is in the bucket, under the tenant's content-addressed key
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        listed = client.list_objects_v2(Bucket=str(s3_settings.attachments_s3_bucket))
        keys = [item["Key"] for item in listed.get("Contents", [])]
    finally:
        client.close()
    digest = hashlib.sha256(PDF).hexdigest()
    assert keys == [f"{t.id.hex}/{digest[:2]}/{digest}"]
