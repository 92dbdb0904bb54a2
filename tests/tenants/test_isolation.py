"""THE ISOLATION WALK: no tenant ever reaches another tenant's data through the API.

Every route of the application with a path parameter is enumerated from the app itself,
each parameter is filled with an id of tenant A's data, and the request is made with tenant
B's credentials: the answer must be 404, and afterwards A's data must be exactly as before.
A route whose parameter the walk cannot fill, or whose body it cannot build, fails the test,
so no endpoint can be added that escapes the walk. The only exclusions are listed in
``EXCLUDED`` with their reasons and are checked in their own way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from frontline.aisettings.schemas import AiSettingsIn
from frontline.auth.schemas import ApiKeyIn, LoginIn, RefreshIn
from frontline.bookings.schemas import BookingPatch, DepartureIn, ResourcePatch, TemplatePatch
from frontline.channels.schemas import ChannelIn, ChannelPatch
from frontline.channels.telegram.alerts import AlertSettingsIn, TelegramLinkIn
from frontline.contacts.schemas import AttributeIn, ContactPatch, MergeIn
from frontline.conversations.schemas import AssignIn, ConversationPatch, NoteIn
from frontline.copilot.schemas import RewriteIn, SuggestIn, TranslateIn
from frontline.customers.schemas import CustomerMessageIn, ProfileIn
from frontline.jobs.worker import Worker
from frontline.kit.crypto import sign
from frontline.knowledge.schemas import FaqIn, KnowledgeSettingsIn
from frontline.messages.schemas import ReplyIn
from frontline.platform.schemas import Limits
from frontline.tenants.schemas import MemberIn, MemberPatch, TenantIn
from frontline.tickets.schemas import (
    CannedReplyIn,
    CannedReplyPatch,
    CategoryIn,
    CategoryPatch,
    ConversationTagsIn,
    TagIn,
)
from tests.conftest import Factory, TenantFixture
from tests.tenants.isolation_kit import (
    API,
    TenantAData,
    build_tenant_data,
    parameterised_routes,
    path_params,
    row_counts,
    snapshot,
)

# Routes with a path parameter that are NOT walked with staff credentials, and why.
EXCLUDED: dict[tuple[str, str], str] = {
    **{
        (method, f"{API}{path}"): (
            "a booking's or a resource's state changes (the walk's control would run them on "
            "one booking in an order its state machine refuses); another tenant's ids get "
            "404 and change nothing: tests/bookings/test_bookings_api.py::"
            "test_another_tenant_s_booking_is_404"
        )
        for method, path in (
            ("POST", "/bookings/{booking_id}/confirm"),
            ("POST", "/bookings/{booking_id}/reject"),
            ("POST", "/bookings/{booking_id}/cancel"),
            ("DELETE", "/resources/{resource_id}"),
            ("DELETE", "/resources/{resource_id}/departures/{departure_id}"),
            ("POST", "/resources/{resource_id}/blocks"),
            ("DELETE", "/resources/{resource_id}/blocks/{block_id}"),
        )
    },
    **{
        (method, f"{API}/platform/tenants/{{tenant_id}}{tail}"): (
            "the platform superadmin's tenant administration: any tenant staff gets 403 "
            "(tests/platform/test_platform.py::test_superadmin_tenants_usage_suspension_and_limits)"
        )
        for method, tail in (("POST", "/suspend"), ("POST", "/resume"), ("PUT", "/limits"))
    },
    ("POST", f"{API}/channels/{{channel_id}}/messages"): (
        "inbound API-channel endpoint: authenticated by the channel's own secret, not by a "
        "staff token; B's credentials must get 401 (test_inbound_endpoints_refuse_other_tenants)"
    ),
    ("POST", f"{API}/webhooks/email/{{channel_id}}"): (
        "inbound e-mail webhook: authenticated by the channel's HMAC signature; B's "
        "credentials must get 401 (test_inbound_endpoints_refuse_other_tenants)"
    ),
    **{
        (method, f"{API}/webhooks/{kind}/{{channel_id}}"): (
            f"inbound {kind} webhook: authenticated by the channel's own verify token, "
            "signature or path token, not staff credentials; a wrong one gets 401/403 and "
            f"writes nothing (tests/channels/{kind}/)"
        )
        for method, kind in (("GET", "whatsapp"), ("POST", "whatsapp"), ("POST", "avito"))
    },
    **{
        (method, f"{API}/channels/{{channel_id}}/mailbox{tail}"): (
            "a mailbox channel's health and poll: the walk's channels are API and e-mail "
            "channels (404 for their owner too); a channel that is not the caller's mailbox "
            "is 404 (tests/channels/test_mailbox.py)"
        )
        for method, tail in (("GET", ""), ("POST", "/poll"))
    },
    ("GET", f"{API}/channels/{{channel_id}}/telegram"): (
        "a Telegram channel's webhook/poll state: the walk's channels are API and e-mail "
        "channels (404 for their owner too); another workspace's channel is 404 and an "
        "operator's call 403 (tests/channels/telegram/test_alerts_console.py::"
        "test_telegram_channel_state_is_what_telegram_reports)"
    ),
    ("POST", f"{API}/webhooks/telegram/{{channel_id}}"): (
        "inbound Telegram webhook: authenticated by the channel's secret token, not staff "
        "credentials; a wrong one gets 401 and writes nothing "
        "(tests/channels/telegram/test_webhook.py)"
    ),
    ("POST", f"{API}/webhooks/telegram-alerts/{{tenant_id}}"): (
        "the operator-alert bot's webhook: authenticated by the workspace's own Telegram "
        "secret token, not staff credentials; a wrong one gets 401 "
        "(tests/channels/telegram/test_alerts.py)"
    ),
    ("POST", f"{API}/contacts/{{contact_id}}/merge"): (
        "needs a second contact of the caller's own in its body, which the walk's bodies "
        "cannot name; both directions across tenants are 404 (tests/contacts/"
        "test_profiles.py::test_past_conversations_and_an_audited_merge)"
    ),
    **{
        ("POST", f"{API}/conversations/{{conversation_id}}/copilot/{action}"): (
            "needs a language model to succeed even for the owner (503 without one, so the "
            "walk's control cannot pass); other tenants' conversations are 404 for every "
            "copilot action (tests/copilot/test_copilot_api.py::"
            "test_another_tenants_conversation_is_404_and_an_empty_one_409)"
        )
        for action in ("rewrite", "translate")
    },
    ("POST", f"{API}/conversations/{{conversation_id}}/messages/{{message_id}}/resend"): (
        "succeeds only for a reply whose delivery is unknown (409 otherwise, so the walk's "
        "control cannot pass); another workspace's or conversation's message is 404 "
        "(tests/channels/test_delivery_once.py::"
        "test_resend_refuses_other_states_and_other_conversations)"
    ),
    **{
        (method, f"{API}/customer/conversations/{{conversation_id}}{tail}"): (
            "customer API: authenticated by a customer token signed with a web channel's "
            "identity secret, not by staff credentials; other customers' and tenants' "
            "conversations are 404 (tests/customers/test_customer_api.py::"
            "test_no_customer_reaches_another_customers_or_tenants_data)"
        )
        for method, tail in (
            ("GET", ""),
            ("GET", "/messages"),
            ("POST", "/messages"),
            ("POST", "/read"),
            ("POST", "/csat"),
        )
    },
    ("GET", f"{API}/widget/attachments/{{attachment_id}}"): (
        "a widget visitor's file through a link signed for one channel and file, not staff "
        "credentials; forged, expired and other channels' links are refused "
        "(tests/attachments/test_widget_files.py::test_signed_links_expire_and_cannot_be_forged)"
    ),
}

# Minimal valid bodies by body model, built for the calling tenant ``me`` (so that a body
# never fails for its own reasons, e.g. an assignee who is not a member of the caller's
# tenant). The walk fails on a body model missing here.
BODIES: dict[type[BaseModel], Callable[[TenantFixture], dict[str, Any]]] = {
    ChannelPatch: lambda me: {"name": "taken over"},
    TemplatePatch: lambda me: {"name": "taken over"},
    ResourcePatch: lambda me: {"name": "taken over"},
    BookingPatch: lambda me: {"notes": "taken over"},
    DepartureIn: lambda me: {
        "starts_at": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(days=61)).isoformat(),
    },
    ContactPatch: lambda me: {"name": "taken over", "ai_enabled": False},
    ConversationPatch: lambda me: {
        "status": "resolved",
        "priority": "urgent",
        "subject": "taken over",
    },
    AssignIn: lambda me: {"assignee_id": str(me.owner_id)},
    ReplyIn: lambda me: {"text": "taken over"},
    NoteIn: lambda me: {"text": "taken over"},
    CategoryPatch: lambda me: {"name": "taken over", "description": "taken over"},
    CannedReplyPatch: lambda me: {"title": "taken over", "text": "taken over"},
    ConversationTagsIn: lambda me: {"tag_ids": []},
    # models of routes without path parameters, listed so the mapping is complete
    LoginIn: lambda me: {"email": me.owner_email, "password": me.owner_password},
    RefreshIn: lambda me: {"refresh_token": "flr_" + "x" * 40},
    ApiKeyIn: lambda me: {"name": "walk"},
    TenantIn: lambda me: {
        "name": "x",
        "slug": "walk-x",
        "owner_email": "o@walk.example.com",
        "owner_password": "password 123",
    },
    MemberIn: lambda me: {"email": "walk@example.com", "password": "password 123"},
    ChannelIn: lambda me: {"type": "api", "name": "walk"},
    CategoryIn: lambda me: {"name": "walk"},
    CannedReplyIn: lambda me: {"title": "walk", "text": "walk"},
    TagIn: lambda me: {"name": "walk", "color": "#123456"},
    AiSettingsIn: lambda me: {"temperature": 0.3},
    FaqIn: lambda me: {"question": "taken over?", "answer": "taken over"},
    KnowledgeSettingsIn: lambda me: {"embedding": None},
    TelegramLinkIn: lambda me: {"telegram_user_id": 777},
    AlertSettingsIn: lambda me: {"chat_id": "-100777"},
    MemberPatch: lambda me: {"role": "operator"},
    Limits: lambda me: {"operators": 1},
    SuggestIn: lambda me: {},
    # models of routes EXCLUDED above, or without path parameters
    RewriteIn: lambda me: {"text": "taken over", "mode": "formal"},
    TranslateIn: lambda me: {"text": "taken over"},
    MergeIn: lambda me: {"source_contact_id": str(uuid.uuid4())},
    AttributeIn: lambda me: {"key": "walk", "type": "text"},
    CustomerMessageIn: lambda me: {"text": "taken over"},
    ProfileIn: lambda me: {"name": "walk"},
}

# Routes whose body is a multipart form (file uploads), with a minimal valid form.
MULTIPART: dict[tuple[str, str], Callable[[TenantFixture], dict[str, Any]]] = {
    ("PUT", f"{API}/knowledge/documents/{{document_id}}"): lambda me: {
        "file": ("taken.txt", b"taken over")
    },
}


# a stand-in caller for checking the walk's tables without a database
_PROBE_TENANT = TenantFixture(
    id=uuid.uuid4(),
    slug="probe",
    owner_email="probe@example.com",
    owner_password="probe password",
    owner_token="",
    owner_id=uuid.uuid4(),
    operator_email="",
    operator_token="",
    operator_id=uuid.uuid4(),
    api_channel_id="",
    api_channel_secret="",
    email_channel_id="",
    email_channel_secret="",
)


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    url: str
    body: Callable[[TenantFixture], dict[str, Any]] | None
    files: Callable[[TenantFixture], dict[str, Any]] | None = None


def body_model(route: APIRoute) -> type[BaseModel] | None:
    if route.body_field is None:
        return None
    annotation = route.body_field.field_info.annotation
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel), (
        route.path,
        annotation,
    )
    return annotation


def walk_plan(app: FastAPI, a: TenantAData | None) -> list[Call]:
    """The requests of the walk; fails listing every route the walk cannot make."""
    problems: list[str] = []
    calls: list[Call] = []
    seen_excluded: set[tuple[str, str]] = set()
    for method, path, route in parameterised_routes(app):
        if (method, path) in EXCLUDED:
            seen_excluded.add((method, path))
            continue
        names = [p.name for p in path_params(route)]
        probe = TenantAData(
            t=_PROBE_TENANT,
            conversation_id=1,
            contact_id="c",
            category_id="c",
            job_id=1,
            key_id="k",
            api_key="",
            message_text="",
            ai_call_id=1,
            document_id=1,
            faq_id=1,
            all_job_ids=set(),
            attachment_id=1,
        )
        unfillable = [n for n in names if not probe.values(n)]
        if unfillable:
            problems.append(
                f"{method} {path}: cannot fill {unfillable}; add A's id to TenantAData.values"
            )
            continue
        files = MULTIPART.get((method, path))
        model = None if files else body_model(route)
        if model is not None and model not in BODIES:
            problems.append(
                f"{method} {path}: no minimal body for {model.__name__}; add it to BODIES"
            )
            continue
        if a is None:
            continue
        combos: list[dict[str, Any]] = [{}]
        for name in names:
            combos = [{**c, name: v} for c in combos for v in a.values(name)]
        for combo in combos:
            url = path
            for name, value in combo.items():
                url = url.replace("{" + name + "}", str(value))
            calls.append(Call(method, path, url, BODIES[model] if model else None, files))
    stale = set(EXCLUDED) - seen_excluded
    if stale:
        problems.append(f"EXCLUDED names routes that no longer exist: {sorted(stale)}")
    assert not problems, "routes escaping the isolation walk:\n" + "\n".join(problems)
    return calls


def test_every_parameterised_route_is_walked_or_excluded_with_a_reason(app: FastAPI) -> None:
    walk_plan(app, None)
    methods_paths = {(m, p) for m, p, _r in parameterised_routes(app)}
    # the walk is not vacuous: the known tenant-scoped routes are among those it covers
    for expected in (
        ("GET", f"{API}/conversations/{{conversation_id}}"),
        ("PATCH", f"{API}/contacts/{{contact_id}}"),
        ("DELETE", f"{API}/categories/{{category_id}}"),
        ("POST", f"{API}/channels/{{channel_id}}/rotate-secret"),
        ("POST", f"{API}/jobs/{{job_id}}/requeue"),
        ("DELETE", f"{API}/api-keys/{{key_id}}"),
    ):
        assert expected in methods_paths
    for reason in EXCLUDED.values():
        assert len(reason) > 20
    for model, build in BODIES.items():
        model.model_validate(build(_PROBE_TENANT))


# --- the walk --------------------------------------------------------------------------


async def test_the_isolation_walk(factory: Factory, worker: Worker, app: FastAPI) -> None:
    a_tenant = await factory.tenant()
    b = await factory.tenant()
    a = await build_tenant_data(factory, worker, a_tenant, "Secret of tenant A")
    b_data = await build_tenant_data(factory, worker, b, "Tenant B's own message")
    calls = walk_plan(app, a)
    assert len(calls) >= 15

    before = await snapshot(factory.client, a)
    counts = await row_counts(factory)
    b_credentials = {
        "B's owner token": b.owner,
        "B's admin API key": {"Authorization": f"Bearer {b_data.api_key}"},
    }
    failures = []
    for who, headers in b_credentials.items():
        for call in calls:
            body = call.body(b) if call.body else None
            files = call.files(b) if call.files else None
            r = await factory.client.request(
                call.method, call.url, json=body, files=files, headers=headers
            )
            if r.status_code != 404 or "Secret of tenant A" in r.text:
                failures.append(
                    f"{who}: {call.method} {call.url} -> {r.status_code} {r.text[:200]}"
                )
    assert not failures, "tenant B reached tenant A's data:\n" + "\n".join(failures)

    # nothing of A's changed, and nothing was written anywhere
    assert await snapshot(factory.client, a) == before
    assert await row_counts(factory) == counts
    # A's API key and channel secret still work (not revoked, not rotated)
    r = await factory.client.get(
        f"{API}/conversations", headers={"Authorization": f"Bearer {a.api_key}"}
    )
    assert r.status_code == 200
    await factory.inbound(a.t, contact=f"customer-of-{a.t.slug}", text="still mine")

    # control: the very same requests are well-formed - A's owner may make every one of
    # them (the deletions last), so B's 404s come from the tenant scope alone
    ordered = sorted(calls, key=lambda c: c.method == "DELETE")
    for call in ordered:
        body = call.body(a.t) if call.body else None
        files = call.files(a.t) if call.files else None
        r = await factory.client.request(
            call.method, call.url, json=body, files=files, headers=a.t.owner
        )
        assert r.status_code < 300, (call.method, call.url, r.status_code, r.text)


async def test_inbound_endpoints_refuse_other_tenants(factory: Factory, worker: Worker) -> None:
    a_tenant = await factory.tenant()
    b = await factory.tenant()
    a = await build_tenant_data(factory, worker, a_tenant, "Secret of tenant A")
    counts = await row_counts(factory)
    message = {"external_id": "intruder-1", "contact": {"external_id": "intruder"}, "text": "hi"}
    api_url = f"{API}/channels/{a.t.api_channel_id}/messages"
    for headers in (
        b.owner,
        {"Authorization": f"Bearer {b.api_channel_secret}"},
        {"Authorization": f"Bearer {a.api_key}"},
        {"Authorization": f"Bearer {a.t.owner_token}"},
    ):
        r = await factory.client.post(api_url, json=message, headers=headers)
        assert r.status_code == 401, r.text

    mail = {
        "from": "intruder@example.com",
        "subject": "hi",
        "text": "hi",
        "message_id": "<intruder@x>",
    }
    raw = json.dumps(mail).encode()
    email_url = f"{API}/webhooks/email/{a.t.email_channel_id}"
    for headers in (
        {**b.owner, "Content-Type": "application/json"},
        {
            "X-Frontline-Signature": sign(b.email_channel_secret, raw),
            "Content-Type": "application/json",
        },
        {
            "X-Frontline-Signature": sign(a.t.api_channel_secret, raw),
            "Content-Type": "application/json",
        },
    ):
        r = await factory.client.post(email_url, content=raw, headers=headers)
        assert r.status_code == 401, r.text

    # B's own channel secret addressed to A's channel of the other type: 404, not accepted
    r = await factory.client.post(
        f"{API}/channels/{a.t.email_channel_id}/messages", json=message, headers=b.api_channel
    )
    assert r.status_code == 404, r.text
    assert await row_counts(factory) == counts

    # control: the same requests with A's own secrets are accepted
    r = await factory.client.post(api_url, json=message, headers=a.t.api_channel)
    assert r.status_code == 202, r.text
    r = await factory.client.post(
        email_url,
        content=raw,
        headers={
            "X-Frontline-Signature": sign(a.t.email_channel_secret, raw),
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 202, r.text
