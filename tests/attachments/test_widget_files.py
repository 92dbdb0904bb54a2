"""Widget visitors upload files and send them with a message; they read their files through
short-lived signed links (over a real server, real sockets)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from frontline.realtime.visitors import channel_id_for_key
from tests.attachments.conftest import HTML, PDF, png
from tests.realtime.conftest import (  # the live server's fixtures
    LiveServer,
    Socket,
    add_web_channel,
    client_id,
    open_widget,
    widget_session,
)

SITE = "https://shop.example.com"


async def upload(
    live: LiveServer,
    key: str,
    token: str,
    name: str,
    data: bytes,
    origin: str = SITE,
) -> Any:
    return await live.client.post(
        "/api/v1/widget/attachments",
        data={"key": key, "visitor_token": token},
        files={"file": (name, data, "application/octet-stream")},
        headers={"Origin": origin},
    )


async def test_upload_send_show_and_download(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant, allowed_origins=[SITE])
    session = await widget_session(live, key, origin=SITE)
    token = session["visitor_token"]
    image = png(4, 4)
    r = await upload(live, key, token, "снимок.png", image)
    assert r.status_code == 201, r.text
    assert r.headers["access-control-allow-origin"] == SITE
    photo = r.json()
    assert photo["content_type"] == "image/png" and photo["size"] == len(image)
    assert photo["filename"] == "снимок.png"
    r = await upload(live, key, token, "page.html", HTML)
    page = r.json()
    assert page["content_type"] == "text/html"

    async with open_widget(live, key, token, origin=SITE) as ws:
        sock = Socket(ws)
        await sock.next("hello")
        cid = client_id()
        await sock.send(
            "message.send", {"client_id": cid, "text": "", "attachments": [photo["id"], page["id"]]}
        )
        ack = await sock.next("message.ack")
        assert ack["data"]["duplicate"] is False
        created = await sock.until(
            lambda f: f["type"] == "message.created" and f["data"]["client_id"] == cid
        )
        files = created["data"]["attachments"]
        assert [f["id"] for f in files] == [photo["id"], page["id"]]
        assert files[0]["inline"] is True and files[1]["inline"] is False
        # the visitor's links are signed and work without any credentials
        r = await live.client.get(files[0]["url"])
        assert r.status_code == 200 and r.content == image
        assert r.headers["content-disposition"].startswith("inline;")
        assert r.headers["x-content-type-options"] == "nosniff"
        r = await live.client.get(files[1]["url"])
        assert r.status_code == 200 and r.content == HTML
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-disposition"].startswith("attachment;")
        # the upload is sent: it cannot be sent again with another message
        await sock.send("message.send", {"client_id": client_id(), "attachments": [photo["id"]]})
        refused = await sock.next("error")
        assert refused["data"]["code"] == "invalid" and "already sent" in refused["data"]["message"]

    # a reconnect brings the history with fresh links
    async with open_widget(live, key, token, origin=SITE) as ws:
        hello = await Socket(ws).next("hello")
        (message,) = hello["data"]["messages"]
        assert [f["filename"] for f in message["attachments"]] == ["снимок.png", "page.html"]
        assert (await live.client.get(message["attachments"][0]["url"])).content == image

    # staff see the same files in the conversation
    r = await live.client.get(
        f"/api/v1/conversations/{ack['data']['conversation_id']}/messages",
        headers=tenant.operator,
    )
    staff = r.json()[0]["attachments"]
    assert [f["id"] for f in staff] == [photo["id"], page["id"]]
    assert staff[0]["url"] == f"/api/v1/attachments/{photo['id']}"


async def test_signed_links_expire_and_cannot_be_forged(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant, allowed_origins=[SITE])
    other_key = await add_web_channel(live.services, tenant, allowed_origins=[SITE])
    token = (await widget_session(live, key, origin=SITE))["visitor_token"]
    photo = (await upload(live, key, token, "a.pdf", PDF)).json()
    channel_id = channel_id_for_key(key)
    assert channel_id is not None
    links = live.services.attachments.links
    fresh = links.widget_url(channel_id, photo["id"], ttl_seconds=60)
    assert (await live.client.get(fresh)).content == PDF
    # issued two hours ago with a one-hour life: expired
    old = links.widget_url(channel_id, photo["id"], ttl_seconds=3600, now=time.time() - 7200)
    r = await live.client.get(old)
    assert r.status_code == 403 and "expired" in r.json()["error"]["message"]
    # a later expiry with the old signature, another file, another channel: all refused
    query = parse_qs(urlsplit(fresh).query)
    path = urlsplit(fresh).path
    exp, sig = int(query["exp"][0]), query["sig"][0]
    for url in (
        f"{path}?key={key}&exp={exp + 3600}&sig={sig}",
        f"/api/v1/widget/attachments/{photo['id'] + 1}?key={key}&exp={exp}&sig={sig}",
        f"{path}?key={other_key}&exp={exp}&sig={sig}",
        f"{path}?key={key}&exp={exp}",
    ):
        assert (await live.client.get(url)).status_code == 403, url
    # a valid link of another channel does not reach this channel's file
    other_id = channel_id_for_key(other_key)
    assert other_id is not None
    r = await live.client.get(links.widget_url(other_id, photo["id"], ttl_seconds=60))
    assert r.status_code == 404


@pytest.mark.usefixtures("fresh_rate_window")
async def test_uploads_are_checked(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(
        live.services, tenant, allowed_origins=[SITE], messages_per_minute=3
    )
    token = (await widget_session(live, key, origin=SITE))["visitor_token"]
    other = (await widget_session(live, key, origin=SITE))["visitor_token"]
    r = await upload(live, key, token, "a.pdf", PDF, origin="https://evil.example")
    assert r.status_code == 403
    r = await upload(live, key, "vt1.bad.token", "a.pdf", PDF)
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == SITE
    r = await live.client.post(
        "/api/v1/widget/attachments", data={"key": key}, headers={"Origin": SITE}
    )
    assert r.status_code == 422
    limit = live.services.attachments.limits.max_bytes
    r = await upload(live, key, token, "big.bin", b"x" * (limit + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    theirs = (await upload(live, key, other, "theirs.pdf", PDF)).json()
    # rate-limited like messages (3 a minute here): the too large attempt counted, the
    # ones refused before it (origin, token, form) did not
    assert (await upload(live, key, token, "1.pdf", PDF)).status_code == 201
    assert (await upload(live, key, token, "2.pdf", PDF)).status_code == 201
    r = await upload(live, key, token, "3.pdf", PDF)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    # another visitor's upload cannot be sent
    async with open_widget(live, key, token, origin=SITE) as ws:
        sock = Socket(ws)
        await sock.next("hello")
        cid = client_id()
        await sock.send("message.send", {"client_id": cid, "attachments": [theirs["id"]]})
        refused = await sock.next("error")
        assert refused["data"]["client_id"] == cid and refused["data"]["code"] == "invalid"
        r = await live.client.get("/api/v1/conversations?limit=5", headers=tenant.operator)
        assert r.json()["items"] == []  # nothing was stored
