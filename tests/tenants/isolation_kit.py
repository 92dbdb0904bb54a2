"""The isolation walk's tenant A: the ids of its rows (:class:`TenantAData`), how they are
built, what A can see of them, and the app's routes enumerated from the app itself."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from frontline.aisettings import service as ai_settings
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.models import Contact, Conversation, Job, Message
from tests.bookings.helpers import book, make_tour
from tests.conftest import Factory, TenantFixture
from tests.kit.keepalive import Answer, keepalive_server

API = "/api/v1"


@dataclass
class TenantAData:
    """Ids of tenant A's rows, by the path-parameter names that address them."""

    t: TenantFixture
    conversation_id: int
    contact_id: str
    category_id: str
    job_id: int
    key_id: str
    api_key: str
    message_text: str
    ai_call_id: int
    document_id: int
    faq_id: int
    all_job_ids: set[str]
    attachment_id: int = 0
    template_id: str = "t"
    resource_id: str = "r"
    departure_id: str = "d"
    booking_id: int = 1
    canned_reply_id: str = "cr"
    tag_id: str = "g"

    def values(self, param: str) -> list[Any]:
        """Every id of A's data that ``param`` can take (empty: the walk cannot fill it)."""
        fillers: dict[str, list[Any]] = {
            "conversation_id": [self.conversation_id],
            "contact_id": [self.contact_id],
            "category_id": [self.category_id],
            "channel_id": [self.t.api_channel_id, self.t.email_channel_id],
            "job_id": [self.job_id],
            "key_id": [self.key_id],
            "call_id": [self.ai_call_id],
            "document_id": [self.document_id],
            "faq_id": [self.faq_id],
            "attachment_id": [self.attachment_id],
            "user_id": [str(self.t.operator_id)],
            "template_id": [self.template_id],
            "resource_id": [self.resource_id],
            "departure_id": [self.departure_id],
            "booking_id": [self.booking_id],
            "canned_reply_id": [self.canned_reply_id],
            "tag_id": [self.tag_id],
        }
        return fillers.get(param, [])


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every ``APIRoute`` of the app with its full path (routers flattened)."""
    try:  # FastAPI keeps included routers as nested route objects
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: ``app.routes`` is already flat
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, route
        return
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            yield context.path, route


def path_params(route: APIRoute) -> list[Any]:
    """The route's path parameters, also those only a dependency declares (a shared
    dependency taking ``conversation_id`` must not hide a route from the walk)."""
    found: dict[str, Any] = {}
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found.update((p.name, p) for p in dependant.path_params)
        pending.extend(dependant.dependencies)
    return list(found.values())


def parameterised_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = []
    for path, route in api_routes(app):
        if path.startswith(API + "/") and path_params(route):
            for method in sorted(route.methods or ()):
                found.append((method, path, route))
    return found


# --- building tenant A's data ----------------------------------------------------------


async def build_tenant_data(
    factory: Factory, worker: Worker, t: TenantFixture, text: str
) -> TenantAData:
    c = factory.client
    inbound = await factory.inbound(t, contact=f"customer-of-{t.slug}", text=text)
    conversation_id = inbound["conversation_id"]
    conversation = (await c.get(f"{API}/conversations/{conversation_id}", headers=t.owner)).json()
    r = await c.post(f"{API}/categories", json={"name": f"Bookings {t.slug}"}, headers=t.owner)
    assert r.status_code == 201, r.text
    category_id = r.json()["id"]
    r = await c.patch(
        f"{API}/conversations/{conversation_id}", json={"category_id": category_id}, headers=t.owner
    )
    assert r.status_code == 200, r.text
    r = await c.post(f"{API}/tags", json={"name": f"VIP {t.slug}"}, headers=t.owner)
    assert r.status_code == 201, r.text
    tag_id = r.json()["id"]
    r = await c.put(
        f"{API}/conversations/{conversation_id}/tags", json={"tag_ids": [tag_id]}, headers=t.owner
    )
    assert r.status_code == 200, r.text
    # an operator reply enqueues a delivery; the channel's callback refuses it (HTTP 400),
    # so the job dies (a dead job is what an admin can re-queue)
    async with keepalive_server(lambda _request: Answer(status=400, body=b"no")) as hook:
        r = await c.patch(
            f"{API}/channels/{t.api_channel_id}",
            json={"config": {"callback_url": f"{hook.base}/hook"}},
            headers=t.owner,
        )
        assert r.status_code == 200, r.text
        r = await c.post(
            f"{API}/conversations/{conversation_id}/messages",
            json={"text": "On it"},
            headers=t.operator,
        )
        assert r.status_code == 201, r.text
        await worker.run_until_idle()
    jobs = (await c.get(f"{API}/jobs", headers=t.owner)).json()
    assert [j["status"] for j in jobs] == ["dead"], jobs
    r = await c.post(f"{API}/api-keys", json={"name": f"CRM {t.slug}"}, headers=t.owner)
    assert r.status_code == 201, r.text
    key = r.json()
    r = await c.put(f"{API}/ai/settings", json={"system_prompt": text}, headers=t.owner)
    assert r.status_code == 200, r.text
    async with factory.services.db.transaction() as session:
        ai_call = await ai_settings.record_call(
            session,
            TenantScope(t.id),
            provider="offline",
            model="offline",
            prompt=[{"role": "user", "content": text}],
            answer=text,
            conversation_id=conversation_id,
        )
        ai_call_id = ai_call.id
    r = await c.post(
        f"{API}/knowledge/documents",
        files={"file": ("prices.txt", f"{text}: prices".encode())},
        headers=t.owner,
    )
    assert r.status_code == 202, r.text
    document_id = r.json()["id"]
    r = await c.post(
        f"{API}/knowledge/faq", json={"question": f"{text}?", "answer": text}, headers=t.owner
    )
    assert r.status_code == 202, r.text
    faq_id = r.json()["id"]
    r = await c.post(
        f"{API}/canned-replies", json={"title": f"Canned {t.slug}", "text": text}, headers=t.owner
    )
    assert r.status_code == 201, r.text
    canned_reply_id = r.json()["id"]
    # a file the customer sent (on the same conversation)
    r = await c.post(
        f"{API}/channels/{t.api_channel_id}/messages",
        headers=t.api_channel,
        json={
            "external_id": f"file-{t.slug}",
            "contact": {"external_id": f"customer-of-{t.slug}"},
            "text": "",
            "attachments": [
                {"filename": "secret.txt", "data": base64.b64encode(text.encode()).decode()}
            ],
        },
    )
    assert r.status_code == 202, r.text
    messages = (
        await c.get(f"{API}/conversations/{conversation_id}/messages", headers=t.owner)
    ).json()
    attachment_id = next(a["id"] for m in messages for a in m["attachments"])
    await worker.run_until_idle()
    # bookings: a condition template (unused, so deletable), a tour with a departure, and a
    # pending booking on it
    r = await c.post(f"{API}/booking-templates", json={"name": f"T {t.slug}"}, headers=t.owner)
    assert r.status_code == 201, r.text
    template_id = r.json()["id"]
    resource, departure = await make_tour(c, t, name=f"{text} tour")
    r = await book(c, t, resource_id=resource["id"], departure_id=departure["id"], adults=1)
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    await worker.run_until_idle()
    all_jobs = (await c.get(f"{API}/jobs", headers=t.owner)).json()
    return TenantAData(
        t=t,
        conversation_id=conversation_id,
        contact_id=conversation["contact_id"],
        category_id=category_id,
        job_id=jobs[0]["id"],
        key_id=key["id"],
        api_key=key["key"],
        message_text=text,
        ai_call_id=ai_call_id,
        document_id=document_id,
        faq_id=faq_id,
        all_job_ids={str(j["id"]) for j in all_jobs},
        attachment_id=attachment_id,
        template_id=template_id,
        resource_id=resource["id"],
        departure_id=departure["id"],
        booking_id=booking_id,
        canned_reply_id=canned_reply_id,
        tag_id=tag_id,
    )


async def snapshot(client: httpx.AsyncClient, a: TenantAData) -> dict[str, Any]:
    """Everything of A's reachable with A's own credentials."""
    h = a.t.owner
    urls = [
        f"{API}/conversations",
        f"{API}/conversations/{a.conversation_id}",
        f"{API}/contacts/{a.contact_id}",
        f"{API}/categories",
        f"{API}/tags",
        f"{API}/channels",
        f"{API}/jobs",
        f"{API}/api-keys",
        f"{API}/members",
        f"{API}/tenant",
        f"{API}/ai/settings",
        f"{API}/ai/calls",
    ]
    out: dict[str, Any] = {}
    for url in urls:
        r = await client.get(url, headers=h)
        assert r.status_code == 200, (url, r.text)
        out[url] = r.json()
    return out


async def row_counts(factory: Factory) -> tuple[int, ...]:
    async with factory.services.db.transaction() as s:
        return tuple(
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (Message, Conversation, Contact, Job)
            ]
        )
