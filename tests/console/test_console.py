"""The operator console: login with a cookie session, CSRF, language, pages, tenant isolation,
escaping, and the session cookie on the REST API (bearer auth unchanged)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from frontline.auth import service as auth_service
from frontline.console.assets import asset_version
from frontline.console.public import WIDGET_PARTS, widget_source
from frontline.kit.repository import TenantScope
from frontline.models import Role
from frontline.tenants import service as tenants
from tests.conftest import Factory, TenantFixture
from tests.conversations.test_conversations_api import email_inbound

API = "/api/v1"
STATIC = Path(__file__).resolve().parents[2] / "frontline" / "console" / "static"
MODULE_DIR = STATIC / "console"
MODULES = sorted(MODULE_DIR.glob("*.js"))


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """``Set-Cookie`` headers of a response by cookie name (the whole header line)."""
    found: dict[str, str] = {}
    for line in response.headers.get_list("set-cookie"):
        name = line.split("=", 1)[0]
        found[name] = line
    return found


def cookie_value(line: str) -> str:
    return line.split("=", 1)[1].split(";", 1)[0].strip('"')


def attrs(line: str) -> set[str]:
    return {part.strip().lower() for part in line.split(";")[1:]}


def hidden_csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def login(
    client: httpx.AsyncClient, email: str, password: str, next_url: str | None = None
) -> httpx.Response:
    page = await client.get("/console/login")
    assert page.status_code == 200, page.text
    form = {"email": email, "password": password, "csrf_token": hidden_csrf(page.text)}
    if next_url is not None:
        form["next"] = next_url
    return await client.post("/console/login", data=form)


async def operator_session(client: httpx.AsyncClient, t: TenantFixture) -> str:
    """Log ``client`` in as ``t``'s operator; returns the CSRF token."""
    r = await login(client, f"operator@{t.slug}.example.com", t.owner_password)
    assert r.status_code == 303, r.text
    token = client.cookies.get("fl_csrf")
    assert token
    return token


@pytest.fixture
async def browser(app: Any) -> Any:
    """A second client with its own cookie jar (the console user's browser)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


# --- the login page --------------------------------------------------------------------


async def test_login_page_in_russian_and_english(browser: httpx.AsyncClient) -> None:
    r = await browser.get("/console/login")
    assert r.status_code == 200
    assert '<html lang="ru">' in r.text and "Вход в консоль" in r.text
    for testid in ("login-email", "login-password", "login-submit"):
        assert f'data-testid="{testid}"' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    csrf = set_cookies(r)["fl_csrf"]
    assert cookie_value(csrf) == hidden_csrf(r.text)
    assert "samesite=strict" in attrs(csrf) and "httponly" not in attrs(csrf)

    r = await browser.get("/console/login", params={"lang": "en"})
    assert '<html lang="en">' in r.text and "Sign in to the console" in r.text
    assert "fl_lang" in set_cookies(r)
    # remembered in the cookie
    r = await browser.get("/console/login")
    assert "Sign in to the console" in r.text
    # the same CSRF cookie is kept while the form is shown again
    assert hidden_csrf(r.text) == browser.cookies.get("fl_csrf")


async def test_language_from_accept_language(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/console/login", headers={"Accept-Language": "de-DE, en-GB;q=0.8"})
        assert "Sign in to the console" in r.text
        r = await c.get("/console/login", headers={"Accept-Language": "en;q=0.2, ru;q=0.9"})
        assert "Вход в консоль" in r.text
        r = await c.get("/console/login", headers={"Accept-Language": "fr"})
        assert "Вход в консоль" in r.text  # default
        r = await c.get("/console/login", params={"lang": "xx"})
        assert "Вход в консоль" in r.text and "fl_lang" not in set_cookies(r)


# --- logging in --------------------------------------------------------------------------


async def test_login_sets_the_session_and_redirects(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    shown_csrf = (await browser.get("/console/login")).cookies.get("fl_csrf")
    r = await login(browser, f"operator@{t.slug}.example.com", t.owner_password)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console"
    cookies = set_cookies(r)
    session = cookies["fl_session"]
    assert {"httponly", "samesite=lax", "path=/"} <= attrs(session)
    assert "secure" not in attrs(session)  # plain http in the test
    csrf = cookies["fl_csrf"]
    assert "samesite=strict" in attrs(csrf) and "httponly" not in attrs(csrf)
    assert cookie_value(csrf) != shown_csrf  # a fresh token for the session

    token = cookie_value(session)
    claims = factory.services.tokens.verify(token)
    assert claims.user_id == t.operator_id and claims.tenant_id == t.id
    assert claims.role == "operator"
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["exp"] - raw["iat"] == factory.services.settings.console_session_ttl_seconds

    page = await browser.get("/console")
    assert page.status_code == 200, page.text
    for testid in ("tab-pending", "tab-mine", "tab-all", "handoff-badge", "reply-text"):
        assert f'data-testid="{testid}"' in page.text
    config = json.loads(
        re.search(r'id="console-config">(.*?)</script>', page.text, re.S).group(1)  # type: ignore[union-attr]
    )
    assert config["user_id"] == str(t.operator_id) and config["tenant_id"] == str(t.id)
    strings = json.loads(
        re.search(r'id="i18n">(.*?)</script>', page.text, re.S).group(1)  # type: ignore[union-attr]
    )
    assert strings["tabs.pending"] == "Ожидают"
    # no inline script: every <script> is a JSON blob or loaded from this origin
    for tag in re.findall(r"<script[^>]*>", page.text):
        assert 'type="application/json"' in tag or 'src="/static/' in tag, tag
    # the entry module, under the current asset version (its imports inherit it)
    entry = f'<script type="module" src="/static/v/{asset_version()}/console/main.js">'
    assert entry in page.text
    assert re.search(r"\son[a-z]+=", page.text) is None  # no inline event handlers

    # the login page sends a signed-in user on to the console
    r = await browser.get("/console/login")
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_wrong_password_shows_the_form_again_without_a_session(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    r = await login(browser, t.owner_email, "wrong password")
    assert r.status_code == 401
    assert "Неверный e-mail или пароль." in r.text
    assert 'data-testid="login-error"' in r.text
    assert "fl_session" not in set_cookies(r)
    assert t.owner_email in r.text  # the e-mail is kept in the form
    r = await login(browser, "nobody@example.com", "whatever")
    assert r.status_code == 401 and "fl_session" not in set_cookies(r)
    r = await login(browser, "x" * 400 + "@example.com", "y" * 2000)
    assert r.status_code == 401 and "fl_session" not in set_cookies(r)
    r = await browser.get("/console")
    assert r.status_code == 303


async def test_login_form_needs_its_csrf_token(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    await browser.get("/console/login")
    form = {"email": t.owner_email, "password": t.owner_password}
    r = await browser.post("/console/login", data=form)
    assert r.status_code == 403 and "fl_session" not in set_cookies(r)
    r = await browser.post("/console/login", data={**form, "csrf_token": "A" * 43})
    assert r.status_code == 403 and "fl_session" not in set_cookies(r)
    # a cross-site form post carries no SameSite=Strict cookie at all
    browser.cookies.clear()
    r = await browser.post("/console/login", data={**form, "csrf_token": "A" * 43})
    assert r.status_code == 403 and "fl_session" not in set_cookies(r)


async def test_login_returns_to_the_page_asked_for_but_never_off_site(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    r = await browser.get("/console/conversations/42")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=/console/conversations/42"
    r = await login(browser, t.owner_email, t.owner_password, next_url="/console/conversations/42")
    assert r.headers["location"] == "/console/conversations/42"
    for evil in ("https://evil.example.com/", "//evil.example.com", "/console/../admin"):
        browser.cookies.clear()
        r = await login(browser, t.owner_email, t.owner_password, next_url=evil)
        assert r.status_code == 303 and r.headers["location"] == "/console", evil


# --- the session cookie on the REST API ----------------------------------------------------


async def test_api_accepts_the_session_cookie_with_csrf_header(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    conversation_id = (await factory.inbound(t, text="Hello"))["conversation_id"]
    csrf = await operator_session(browser, t)

    r = await browser.get(f"{API}/me")
    assert r.status_code == 200 and r.json()["user_id"] == str(t.operator_id)
    r = await browser.get(f"{API}/conversations")
    assert [c["id"] for c in r.json()["items"]] == [conversation_id]

    note = {"text": "checked the booking"}
    url = f"{API}/conversations/{conversation_id}/notes"
    r = await browser.post(url, json=note)
    assert r.status_code == 403, r.text
    assert "CSRF" in r.json()["error"]["message"]
    r = await browser.post(url, json=note, headers={"X-CSRF-Token": "wrong-" + csrf})
    assert r.status_code == 403
    r = await browser.post(url, json=note, headers={"X-CSRF-Token": ""})
    assert r.status_code == 403
    r = await browser.patch(f"{API}/conversations/{conversation_id}", json={"priority": "urgent"})
    assert r.status_code == 403
    # the header without the cookie does not do either
    browser.cookies.delete("fl_csrf")
    r = await browser.post(url, json=note, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    browser.cookies.set("fl_csrf", csrf)

    r = await browser.post(url, json=note, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    r = await browser.patch(
        f"{API}/conversations/{conversation_id}",
        json={"priority": "urgent"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["priority"] == "urgent"
    r = await browser.post(
        f"{API}/conversations/{conversation_id}/assign",
        json={"assignee_id": str(t.operator_id)},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["status"] == "open"
    detail = (await browser.get(f"{API}/conversations/{conversation_id}")).json()
    assert [m["text"] for m in detail["messages"] if m["is_internal"]] == ["checked the booking"]

    # the operator role still applies: admin-only routes refuse the operator's cookie
    r = await browser.get(f"{API}/api-keys")
    assert r.status_code == 403

    # a garbage session cookie is a 401, like a bad bearer token
    browser.cookies.set("fl_session", "not-a-jwt")
    r = await browser.get(f"{API}/me")
    assert r.status_code == 401


async def test_bearer_and_api_keys_are_unchanged(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    conversation_id = (await factory.inbound(t, text="Hello"))["conversation_id"]
    await operator_session(browser, t)
    url = f"{API}/conversations/{conversation_id}/notes"
    # a bearer token needs no CSRF header, with or without cookies around
    r = await browser.post(url, json={"text": "via bearer"}, headers=t.owner)
    assert r.status_code == 201, r.text
    assert r.json()["author_id"] == str(t.owner_id)  # the header wins over the cookie
    r = await factory.client.post(url, json={"text": "bearer only"}, headers=t.operator)
    assert r.status_code == 201
    # a bad Authorization header is refused even though a valid session cookie is there
    r = await browser.get(f"{API}/me", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = await browser.get(f"{API}/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.status_code == 401
    # no credentials at all: 401 as before
    r = await factory.client.get(f"{API}/me")
    assert r.status_code == 401 and r.json()["error"]["message"] == "missing bearer token"
    # API keys
    key = (await factory.client.post(f"{API}/api-keys", json={"name": "k"}, headers=t.owner)).json()
    r = await factory.client.post(
        url, json={"text": "via key"}, headers={"Authorization": f"Bearer {key['key']}"}
    )
    assert r.status_code == 201


def test_subject_from_access_token(services: Any) -> None:
    from frontline.auth.deps import subject_from_access_token
    from frontline.auth.tokens import AccessClaims
    from frontline.errors import Unauthorized

    user, tenant = uuid.uuid4(), uuid.uuid4()
    token = services.tokens.issue(AccessClaims(user, tenant, "operator", False), ttl_seconds=60)
    subject = subject_from_access_token(services, token)
    assert (subject.user_id, subject.tenant_id, subject.role) == (user, tenant, Role.OPERATOR)
    with pytest.raises(Unauthorized):
        subject_from_access_token(services, token + "x")
    expired = services.tokens.issue(AccessClaims(user, tenant, "operator", False), ttl_seconds=-5)
    with pytest.raises(Unauthorized):
        subject_from_access_token(services, expired)


# --- logout and signed-out pages ------------------------------------------------------------


async def test_logout_clears_the_session(factory: Factory, browser: httpx.AsyncClient) -> None:
    t = await factory.tenant()
    csrf = await operator_session(browser, t)
    r = await browser.post("/console/logout", data={})
    assert r.status_code == 403  # the form's CSRF token is required
    assert (await browser.get("/console")).status_code == 200
    r = await browser.post("/console/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    cookies = set_cookies(r)
    for name in ("fl_session", "fl_csrf"):
        assert "max-age=0" in attrs(cookies[name]), cookies[name]
    assert browser.cookies.get("fl_session") is None
    r = await browser.get("/console")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert (await browser.get(f"{API}/me")).status_code == 401


async def test_pages_redirect_to_login_without_a_valid_session(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    for path in ("/console", "/console/conversations/1"):
        r = await browser.get(path)
        assert r.status_code == 303
        assert r.headers["location"] == f"/console/login?next={path}"
    browser.cookies.set("fl_session", "garbage")
    r = await browser.get("/console")
    assert r.status_code == 303 and "max-age=0" in attrs(set_cookies(r)["fl_session"])
    # an expired session
    t = await factory.tenant()
    from frontline.auth.tokens import AccessClaims

    expired = factory.services.tokens.issue(
        AccessClaims(t.operator_id, t.id, "operator", False), ttl_seconds=-10
    )
    browser.cookies.set("fl_session", expired)
    assert (await browser.get("/console")).status_code == 303
    assert (await browser.get(f"{API}/me")).status_code == 401


async def test_someone_without_an_operator_role_gets_403(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    async with factory.services.db.transaction() as session:
        await auth_service.create_user(
            session,
            email="root@platform.example.com",
            password="platform password",
            is_superadmin=True,
        )
    r = await login(browser, "root@platform.example.com", "platform password")
    assert r.status_code == 303  # the password is right
    r = await browser.get("/console")
    assert r.status_code == 403
    assert "Нет доступа" in r.text and 'data-testid="logout"' in r.text


async def test_a_removed_account_loses_the_console(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    from frontline.auth.tokens import AccessClaims

    # a session naming a user who does not exist (e.g. deleted since)
    token = factory.services.tokens.issue(AccessClaims(uuid.uuid4(), t.id, "operator", False))
    browser.cookies.set("fl_session", token)
    r = await browser.get("/console")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


# --- conversations: tenant isolation, escaping ---------------------------------------------------


async def test_conversation_page_is_tenant_scoped(
    factory: Factory, browser: httpx.AsyncClient
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    a_conversation = (await factory.inbound(a, text="Secret of tenant A"))["conversation_id"]
    b_conversation = (await factory.inbound(b, text="B's own"))["conversation_id"]
    await operator_session(browser, b)
    r = await browser.get(f"/console/conversations/{b_conversation}")
    assert r.status_code == 200
    assert f'"conversation_id": {b_conversation}' in r.text
    r = await browser.get(f"/console/conversations/{a_conversation}")
    assert r.status_code == 404
    assert "Secret of tenant A" not in r.text and "Не найдено" in r.text
    for bad in ("0", "-1", "abc", "99999999999999999999999", "1e3"):
        r = await browser.get(f"/console/conversations/{bad}")
        assert r.status_code == 404, bad
    # the API with B's cookie does not reach A's conversation either
    r = await browser.get(f"{API}/conversations/{a_conversation}")
    assert r.status_code == 404


async def test_customer_text_is_escaped(factory: Factory, browser: httpx.AsyncClient) -> None:
    t = await factory.tenant()
    evil = "<script>alert('x')</script>"
    mail = await email_inbound(
        factory, t, sender="mallory@example.com", subject=evil + "</title>", text=evil
    )
    await operator_session(browser, t)
    r = await browser.get(f"/console/conversations/{mail['conversation_id']}")
    assert r.status_code == 200, r.text
    assert "<script>alert" not in r.text and "</title></title>" not in r.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in r.text


# --- workspaces -----------------------------------------------------------------------------


async def test_switching_workspace(factory: Factory, browser: httpx.AsyncClient) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    async with factory.services.db.transaction() as session:
        await tenants.add_member(
            session, TenantScope(b.id), email=a.owner_email, password=None, role=Role.OPERATOR
        )
    r = await login(browser, a.owner_email, a.owner_password)
    assert r.status_code == 303
    page = await browser.get("/console")
    assert 'data-testid="workspace-select"' in page.text
    csrf = browser.cookies.get("fl_csrf")
    assert csrf
    r = await browser.post("/console/workspace", data={"tenant_id": str(b.id)})
    assert r.status_code == 403
    r = await browser.post("/console/workspace", data={"tenant_id": str(b.id), "csrf_token": csrf})
    assert r.status_code == 303
    me = (await browser.get(f"{API}/me")).json()
    assert me["tenant_id"] == str(b.id) and me["role"] == "operator"
    # not a member: nothing changes
    stranger = await factory.tenant()
    csrf = browser.cookies.get("fl_csrf")
    r = await browser.post(
        "/console/workspace", data={"tenant_id": str(stranger.id), "csrf_token": csrf}
    )
    assert r.status_code == 303
    assert (await browser.get(f"{API}/me")).json()["tenant_id"] == str(b.id)


# --- static assets ----------------------------------------------------------------------------


async def test_static_assets_are_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/console.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]
    version = asset_version()
    for module in MODULES:
        r = await client.get(f"/static/v/{version}/console/{module.name}")
        assert r.status_code == 200, module.name
        assert r.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "immutable" in r.headers["cache-control"]
        assert r.content == module.read_bytes()


async def test_versioned_assets_are_immutable_under_the_current_version_only(
    client: httpx.AsyncClient,
) -> None:
    version = asset_version()
    r = await client.get(f"/static/v/{version}/console.css")
    assert r.status_code == 200 and r.headers["content-type"] == "text/css; charset=utf-8"
    assert "immutable" in r.headers["cache-control"]
    for url in (
        "/static/v/0123456789ab/console/main.js",  # another version (a rolling upgrade)
        f"/static/v/{version}/console/nothing.js",
        f"/static/v/{version}/demo.html",  # scripts and style sheets only
        f"/static/v/{version}/console/%2e%2e/%2e%2e/assets.py",
        f"/static/v/{version}/..%2f..%2fassets.py",
    ):
        r = await client.get(url)
        assert r.status_code == 404, url
        assert r.headers["cache-control"] == "no-store", url


def test_console_modules_have_no_html_sinks() -> None:
    for module in MODULES:
        source = module.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (module.name, sink)


# every import of the entry module's graph resolved and linked (named exports checked), no
# module evaluated; prints the files the graph reached
_LINK_GRAPH = """
const vm = require("vm"), fs = require("fs"), path = require("path");
const seen = new Map();
function load(file) {
  if (!seen.has(file)) {
    seen.set(file, new vm.SourceTextModule(fs.readFileSync(file, "utf8"), { identifier: file }));
  }
  return seen.get(file);
}
load(process.argv[1]).link(function (spec, ref) {
  if (!spec.startsWith("./")) { throw new Error(ref.identifier + ": not relative: " + spec); }
  const file = path.join(path.dirname(ref.identifier), spec);
  if (!fs.existsSync(file)) { throw new Error(ref.identifier + ": no " + spec); }
  return load(file);
}).then(function () {
  console.log(JSON.stringify(Array.from(seen.keys(), (f) => path.basename(f)).sort()));
}, function (error) { console.error(String(error)); process.exit(1); });
"""


# the pages' entry modules: the console (console.html) and the bookings page (bookings.html)
ENTRY_MODULES = ("main.js", "bookings.js")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_console_modules_parse_and_link() -> None:
    node = shutil.which("node")
    assert node
    for module in MODULES:
        result = subprocess.run(
            [node, "--input-type=module", "--check"],
            input=module.read_text(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (module.name, result.stderr)
    reached: set[str] = set()
    for entry in ENTRY_MODULES:
        result = subprocess.run(
            [node, "--experimental-vm-modules", "-e", _LINK_GRAPH, str(MODULE_DIR / entry)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        reached |= set(json.loads(result.stdout))
    assert sorted(reached) == sorted(m.name for m in MODULES)  # none left over


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_widget_parts_join_into_one_valid_script() -> None:
    node = shutil.which("node")
    assert node
    parts = sorted(WIDGET_PARTS.glob("*.js"))
    assert len(parts) > 1 and all(len(p.read_text().splitlines()) < 600 for p in parts)
    source = widget_source().decode()
    result = subprocess.run(
        [node, "--check"], input=source, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # a part on its own is a fragment, not a script: the join is what makes it valid
    alone = subprocess.run(
        [node, "--check"], input=parts[0].read_text(), capture_output=True, text=True, check=False
    )
    assert alone.returncode != 0
