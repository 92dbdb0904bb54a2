"""The owner's pages: served to admins and owners in both languages, refused (403, no menu
entry) to operators, the platform page to the platform superadmin only; the chart library
is served from the package; the widget preview shows the channel's widget."""

from __future__ import annotations

import inspect
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from frontline.auth import service as auth_service
from frontline.console.admin import SETTINGS_PAGES, chart_js_url
from frontline.console.i18n import catalogue
from frontline.models import Role
from tests.conftest import Factory
from tests.console.test_console import login
from tests.tenants.isolation_kit import api_routes

PAGES = ["/console/analytics", *(f"/console/settings/{p}" for p in SETTINGS_PAGES)]


@pytest.fixture
async def browser(app: Any) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_owner_gets_every_page_in_both_languages(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    assert (await login(browser, t.owner_email, t.owner_password)).status_code == 303
    inbox = await browser.get("/console")
    assert 'data-testid="nav-settings"' in inbox.text
    for lang, title in (("ru", "База знаний"), ("en", "Knowledge base")):
        for url in PAGES:
            r = await browser.get(f"{url}?lang={lang}")
            assert r.status_code == 200, url
            assert f'<html lang="{lang}">' in r.text
            assert "/console/admin/main.js" in r.text
            assert "script-src 'self'" in r.headers["content-security-policy"]
        r = await browser.get(f"/console/settings/knowledge?lang={lang}")
        assert catalogue(lang)["admin.nav.knowledge"] == title and f"<h1>{title}</h1>" in r.text
    r = await browser.get("/console/settings/nope")
    assert r.status_code == 404
    r = await browser.get("/console/analytics")
    assert chart_js_url() in r.text
    script = await browser.get(chart_js_url())
    assert script.status_code == 200 and b"Chart.js v4" in script.content[:200]
    assert (await browser.get("/console/vendor/chart-0.0.0.js")).status_code == 404
    # every string a page asks for exists in both languages
    assert set(catalogue("ru")) == set(catalogue("en"))


async def test_operator_gets_403_and_no_menu(factory: Factory, browser: httpx.AsyncClient) -> None:
    t = await factory.tenant()
    assert (await login(browser, t.operator_email, "correct horse battery")).status_code == 303
    inbox = await browser.get("/console")
    assert inbox.status_code == 200
    assert "nav-settings" not in inbox.text and "/console/analytics" not in inbox.text
    for url in [
        *PAGES,
        "/console/platform",
        f"/console/settings/channels/{t.api_channel_id}/preview",
    ]:
        r = await browser.get(url)
        assert r.status_code == 403, url
    # and the API behind the pages
    csrf = browser.cookies.get("fl_csrf") or ""
    for method, path in (
        ("GET", "/api/v1/analytics/summary"),
        ("GET", "/api/v1/audit-log"),
        ("GET", "/api/v1/channel-types"),
        ("GET", "/api/v1/jobs"),
        ("GET", "/api/v1/ai/calls"),
        ("PUT", "/api/v1/ai/settings"),
        ("POST", "/api/v1/ai/test"),
        ("POST", "/api/v1/members"),
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/platform/tenants"),
    ):
        r = await browser.request(method, path, json={}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403, (method, path, r.status_code)


async def test_login_returns_to_an_admin_page(factory: Factory, browser: httpx.AsyncClient) -> None:
    t = await factory.tenant()
    r = await browser.get("/console/settings/team")
    assert r.status_code == 303 and "next=/console/settings/team" in r.headers["location"]
    r = await login(browser, t.owner_email, t.owner_password, next_url="/console/settings/team")
    assert r.headers["location"] == "/console/settings/team"


async def test_platform_page_is_for_the_superadmin(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    await login(browser, t.owner_email, t.owner_password)
    assert (await browser.get("/console/platform")).status_code == 403
    await browser.post("/console/logout", data={"csrf_token": browser.cookies.get("fl_csrf")})
    browser.cookies.clear()
    async with factory.services.db.transaction() as session:
        await auth_service.create_user(
            session,
            email="root@platform.example.com",
            password="platform password",
            is_superadmin=True,
        )
    await login(browser, "root@platform.example.com", "platform password")
    r = await browser.get("/console/platform?lang=en")
    assert r.status_code == 200 and "Platform: workspaces" in r.text


async def test_widget_preview(factory: Factory, browser: httpx.AsyncClient) -> None:
    t = await factory.tenant()
    await login(browser, t.owner_email, t.owner_password)
    csrf = browser.cookies.get("fl_csrf") or ""
    r = await browser.post(
        "/api/v1/channels",
        json={"type": "web", "name": "Site"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    channel_id = r.json()["id"]
    r = await browser.get(f"/console/settings/channels/{channel_id}/preview")
    assert r.status_code == 200
    key = re.search(r'data-key="(wk_[0-9a-f]{32})"', r.text)
    assert key and key.group(1) == "wk_" + channel_id.replace("-", "")
    # not a web channel: nothing to preview
    r = await browser.get(f"/console/settings/channels/{t.api_channel_id}/preview")
    assert r.status_code == 404


def _admin_only(route: APIRoute) -> bool:
    """Whether a route's dependencies require the admin or owner role, or the platform
    superadmin (``Admin``, ``Owner``, ``Superadmin`` in frontline/auth/deps.py)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        name = getattr(call, "__qualname__", "")
        if name == "_superadmin":
            return True
        if name == "require_role.<locals>._check":
            minimum = inspect.getclosurevars(call).nonlocals["minimum"]
            if minimum in (Role.ADMIN, Role.OWNER):
                return True
        stack.extend(dep.dependencies)
    return False


def _fill(path: str) -> str:
    """Path parameters filled with well-formed ids: a role check comes before any lookup."""
    return re.sub(r"\{(\w*_id|id)\}", "1", re.sub(r"\{tenant_id\}", str(uuid.uuid4()), path))


async def test_operator_gets_403_on_every_admin_route(
    factory: Factory, browser: httpx.AsyncClient, app: Any
) -> None:
    """Every API route that needs the admin or owner role (found from the application's own
    dependencies, so a new one cannot be missed) answers an operator's console cookie with
    403 and the localizable ``forbidden`` code, whatever the method and body."""
    t = await factory.tenant()
    assert (await login(browser, t.operator_email, "correct horse battery")).status_code == 303
    csrf = browser.cookies.get("fl_csrf") or ""
    routes = [
        (method, path)
        for path, route in api_routes(app)
        if _admin_only(route)
        for method in sorted(route.methods)
    ]
    # the walk sees the routes the owner's pages use (so the selection above is not empty)
    assert {
        ("PUT", "/api/v1/ai/settings"),
        ("POST", "/api/v1/knowledge/documents"),
        ("GET", "/api/v1/platform/tenants"),
        ("POST", "/api/v1/jobs/{job_id}/requeue"),
        ("GET", "/api/v1/analytics/summary"),
    } <= set(routes), routes
    refused = []
    for method, path in routes:
        r = await browser.request(method, _fill(path), json={}, headers={"X-CSRF-Token": csrf})
        if r.status_code != 403 or r.json()["error"]["code"] != "forbidden":
            refused.append((method, path, r.status_code))
    assert not refused, refused
    # and every owner page
    for name in SETTINGS_PAGES:
        r = await browser.get(f"/console/settings/{name}")
        assert r.status_code == 403, name


def test_readme_links_a_screenshot_of_every_page_in_both_languages() -> None:
    """tests/browser/test_owner_console.py takes them (FRONTLINE_UPDATE_SCREENSHOTS=1)."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text("utf-8")
    for name in ["analytics", *SETTINGS_PAGES, "platform"]:
        for lang in ("en", "ru"):
            path = f"docs/screenshots/{name}-{lang}.png"
            assert f"({path})" in readme, path
            assert (root / path).is_file(), path


def test_every_audit_action_has_words_in_both_languages() -> None:
    """The audit log names each action in the reader's language: every action recorded in
    the code (``audit.record(..., "<action>", ...)``) has its entry."""
    root = Path(__file__).resolve().parents[2] / "frontline"
    actions = set()
    for source in root.rglob("*.py"):
        text = source.read_text("utf-8")
        for call in re.finditer(r"(?:audit\.record(?:_system)?|audit_throttle_event)\(", text):
            # the call's first "<group>.<verb>" literal is its action (none: passed through)
            found = re.search(r'"([a-z_]+\.[a-z_]+)"', text[call.end() : call.end() + 200])
            if found:
                actions.add(found.group(1))
    assert {"members.add", "platform.suspend", "auth.login_locked"} <= actions, actions
    for lang in ("ru", "en"):
        strings = catalogue(lang)
        missing = sorted(a for a in actions if f"admin.audit.do.{a}" not in strings)
        assert not missing, (lang, missing)
