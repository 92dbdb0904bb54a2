"""A WhatsApp media file larger than the attachment limit is refused - whether the Graph
API's metadata says so or only the bytes show it - and recorded as failed."""

from __future__ import annotations

import json

import pytest

from frontline.jobs.worker import Worker
from frontline.settings import Settings
from tests.channels.whatsapp.fake_graph import FakeGraph, payload
from tests.channels.whatsapp.helpers import conversations, post_webhook, thread, whatsapp_channel
from tests.conftest import Factory
from tests.kit.keepalive import Answer, Request

LIMIT = 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"attachments_max_bytes": LIMIT})


async def test_oversized_media_is_refused(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (LIMIT * 4)
    graph.media["1003383421387256"] = (big, "image/jpeg")  # the metadata tells the size
    graph.media["2096244764164735"] = (big, "application/pdf")
    understated = graph.answer

    def lying(request: Request) -> Answer:
        found = understated(request)
        if request.path.endswith("/2096244764164735"):  # metadata understating the size
            body = dict(found.body)
            body["file_size"] = "100"
            return Answer(body=json.loads(json.dumps(body)))
        return found

    graph.server.answer = lying
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    for name in ("image", "document"):
        assert (await post_webhook(factory.client, cid, payload(name))).status_code == 200
    await worker.run_until_idle()
    [conv] = await conversations(factory, t, cid)
    image, document = await thread(factory, t, conv["id"])
    for m in (image, document):
        [file] = m["attachments"]
        assert file["status"] == "failed"
        assert f"larger than {LIMIT} bytes" in file["failure_reason"]
    # the first was refused from its metadata, without downloading it
    downloads = [q.path for q in graph.requests if "/attachments/" in q.path]
    assert downloads == ["/whatsapp_business/attachments/?mid=2096244764164735"]
