"""Lists and bodies: tenant B's lists never show tenant A's rows, and B's request bodies
cannot name them. Every body-less GET route under /api/v1 is either a list checked here
or named in ``NOT_LISTS`` with the reason and the test that checks it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from frontline.jobs.worker import Worker
from tests.conftest import Factory
from tests.tenants.isolation_kit import (
    API,
    api_routes,
    build_tenant_data,
    path_params,
)

# Body-less GET routes under /api/v1 that list tenant rows (checked by
# test_lists_never_show_another_tenants_rows) or that are not lists, and why.
LISTS = {
    f"{API}/conversations",
    f"{API}/categories",
    f"{API}/canned-replies",
    f"{API}/tags",
    f"{API}/channels",
    f"{API}/inbox/channels",
    f"{API}/jobs",
    f"{API}/api-keys",
    f"{API}/members",
    f"{API}/ai/calls",
    f"{API}/knowledge/documents",
}
NOT_LISTS: dict[str, str] = {
    f"{API}/me": "the caller's own identity (checked: B sees only its own memberships)",
    f"{API}/tenant": "the caller's own tenant row (checked: B sees its own tenant)",
    f"{API}/ai/settings": "the caller's own tenant's AI settings (checked: B sees its own)",
    f"{API}/ai/status": "the caller's own tenant's chain and the process's provider health",
    f"{API}/knowledge/settings": "the caller's own tenant's embedding model (checked: B sees "
    "its own)",
    f"{API}/telegram/alerts": "the caller's own tenant's alert bot (the token masked)",
    f"{API}/knowledge/search": "needs a query; its tenant scope is checked by "
    "tests/knowledge/test_api.py::test_search_is_tenant_scoped",
    f"{API}/audit-log": "checked by tests/platform/test_platform.py::"
    "test_team_roles_removal_and_the_audit_log (another tenant's owner sees an empty log)",
    f"{API}/channel-types": "the server's channel types and their config schemas: no tenant data",
    f"{API}/platform/tenants": "platform-wide by design, superadmin only (403 for tenant staff: "
    "tests/platform/test_platform.py)",
    **{
        f"{API}/analytics/{report}": "aggregates, not rows: tests/analytics/test_analytics.py::"
        "test_every_report_on_known_numbers seeds two tenants alike and checks one's numbers"
        for report in (
            "summary",
            "timeline",
            "volume",
            "handoff-reasons",
            "categories",
            "unanswered",
            "usage",
            "bookings",
        )
    },
    **{
        f"{API}/{path}": "bookings lists and search: B's lists never show A's rows "
        "(tests/bookings/test_bookings_api.py::test_another_tenant_s_booking_is_404)"
        for path in ("resources", "booking-templates", "bookings", "availability")
    },
    f"{API}/booking-settings": "the caller's own tenant's hold time",
    f"{API}/booking-calendars": "the caller's own tenant's feed URLs (secret tokens of its own)",
    f"{API}/contact-attributes": "the tenant's attribute types (no ids); its tenant scope is "
    "checked by tests/contacts/test_profiles.py::test_operators_set_typed_attributes_and_"
    "wrong_ones_name_the_field",
    f"{API}/customer/conversations": "customer API (a customer token, not staff): its scope "
    "is checked by tests/customers/test_customer_api.py",
    f"{API}/customer/profile": "customer API: the token's own user (checked by "
    "tests/customers/test_customer_api.py::test_profile_attributes_are_typed)",
}


# --- lists -----------------------------------------------------------------------------


def test_every_list_route_is_checked(app: FastAPI) -> None:
    plain_gets = {
        path
        for path, route in api_routes(app)
        if path.startswith(API + "/")
        and "GET" in (route.methods or ())
        and not path_params(route)
    }
    assert plain_gets == LISTS | set(NOT_LISTS), (
        "a GET route under /api/v1 is neither checked as a list nor excluded with a reason: "
        f"{sorted(plain_gets ^ (LISTS | set(NOT_LISTS)))}"
    )


def ids(rows: Any) -> set[str]:
    items = rows["items"] if isinstance(rows, dict) else rows
    return {str(r.get("id", r.get("user_id"))) for r in items}


async def test_lists_never_show_another_tenants_rows(factory: Factory, worker: Worker) -> None:
    a_tenant = await factory.tenant()
    b = await factory.tenant()
    a = await build_tenant_data(factory, worker, a_tenant, "Secret of tenant A")
    bd = await build_tenant_data(factory, worker, b, "Tenant B's own message")
    c = factory.client

    own = {
        f"{API}/conversations": ({str(a.conversation_id)}, {str(bd.conversation_id)}),
        f"{API}/categories": ({a.category_id}, {bd.category_id}),
        f"{API}/canned-replies": ({a.canned_reply_id}, {bd.canned_reply_id}),
        f"{API}/tags": ({a.tag_id}, {bd.tag_id}),
        f"{API}/channels": (
            {a.t.api_channel_id, a.t.email_channel_id},
            {b.api_channel_id, b.email_channel_id},
        ),
        f"{API}/inbox/channels": (
            {a.t.api_channel_id, a.t.email_channel_id},
            {b.api_channel_id, b.email_channel_id},
        ),
        f"{API}/jobs": (a.all_job_ids, bd.all_job_ids),
        f"{API}/api-keys": ({a.key_id}, {bd.key_id}),
        f"{API}/members": (
            {str(a.t.owner_id), str(a.t.operator_id)},
            {str(b.owner_id), str(b.operator_id)},
        ),
        f"{API}/ai/calls": ({str(a.ai_call_id)}, {str(bd.ai_call_id)}),
        f"{API}/knowledge/documents": (
            {str(a.document_id), str(a.faq_id)},
            {str(bd.document_id), str(bd.faq_id)},
        ),
    }
    assert set(own) == LISTS
    for url, (a_ids, b_ids) in own.items():
        r = await c.get(url, headers=b.owner)
        assert r.status_code == 200, r.text
        seen = ids(r.json())
        assert seen == b_ids, url  # B's rows, and not one of A's
        assert not seen & a_ids
        assert "Secret of tenant A" not in r.text

    # filters naming A's ids find nothing; a search for A's text finds nothing
    for query in (
        {"channel_id": a.t.api_channel_id},
        {"contact_id": a.contact_id},
        {"category_id": a.category_id},
        {"q": "Secret of tenant A"},
        {"assignee": str(a.t.operator_id)},
    ):
        r = await c.get(f"{API}/conversations", params=query, headers=b.owner)
        assert r.status_code == 200, r.text
        assert r.json()["items"] == [], query
    r = await c.get(f"{API}/jobs", params={"status": "dead"}, headers=b.owner)
    assert ids(r.json()) == {str(bd.job_id)}

    me = (await c.get(f"{API}/me", headers=b.owner)).json()
    assert [m["tenant_id"] for m in me["memberships"]] == [str(b.id)]
    assert (await c.get(f"{API}/tenant", headers=b.owner)).json()["id"] == str(b.id)
    ai = (await c.get(f"{API}/ai/settings", headers=b.owner)).json()
    assert ai["system_prompt"] == "Tenant B's own message"


async def test_bodies_cannot_reference_another_tenants_rows(
    factory: Factory, worker: Worker
) -> None:
    a_tenant = await factory.tenant()
    b = await factory.tenant()
    a = await build_tenant_data(factory, worker, a_tenant, "Secret of tenant A")
    bd = await build_tenant_data(factory, worker, b, "Tenant B's own message")
    c = factory.client
    url = f"{API}/conversations/{bd.conversation_id}"
    r = await c.patch(url, json={"category_id": a.category_id}, headers=b.owner)
    assert r.status_code == 422, r.text
    r = await c.post(f"{url}/assign", json={"assignee_id": str(a.t.operator_id)}, headers=b.owner)
    assert r.status_code == 422, r.text
    after = (await c.get(url, headers=b.owner)).json()
    assert after["category_id"] == bd.category_id
    assert after["assignee_id"] == str(b.operator_id)  # from the operator's reply
    # logging in to A with B's owner account is refused
    r = await c.post(
        f"{API}/auth/login",
        json={"email": b.owner_email, "password": b.owner_password, "tenant_id": str(a.t.id)},
    )
    assert r.status_code == 401, r.text
