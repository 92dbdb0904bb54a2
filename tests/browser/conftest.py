"""Browser tests: the web chat widget in Debian's headless Chromium against a real
``frontline serve`` process (fresh SQLite file, demo workspace, in-process worker, offline
AI engine).

Playwright drives the system Chromium (``/usr/bin/chromium``); Playwright's own browser
download is not used. Without that browser the tests skip locally and fail in CI (``CI``
set), so a CI image that lost its browser cannot pass silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import TEST_SECRET
from tests.kit.liveserver import demo_server

CHROMIUM = Path(os.environ.get("FRONTLINE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STEP_TIMEOUT = 20_000  # ms for each step; the machine may be slow and busy


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("FRONTLINE_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Server:
    base: str
    info: dict[str, Any]  # ``frontline demo --json``
    folder: Path | None = None  # the server's SQLite file lives here

    def superadmin(self) -> tuple[str, str]:
        """A platform superadmin (also an owner of the demo workspace), made with the
        ``frontline create-user`` command on the server's database: ``(email, password)``."""
        assert self.folder is not None
        email, password = f"root-{uuid.uuid4().hex[:6]}@platform.example.com", "platform password"
        env = {
            **os.environ,
            "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{self.folder}/frontline.db",
            "FRONTLINE_SECRET_KEY": TEST_SECRET,
        }
        tenant = str(self.info["tenant_id"])
        command = ["create-user", "--tenant", tenant, "--email", email, "--password", password]
        subprocess.run(
            [sys.executable, "-m", "frontline", *command, "--role", "owner", "--superadmin"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        return email, password

    @property
    def widget_key(self) -> str:
        return str(self.info["widget_key"])

    def token(self, who: str = "operator") -> str:
        r = httpx.post(
            f"{self.base}/api/v1/auth/login",
            json={"email": self.info[f"{who}_email"], "password": self.info[f"{who}_password"]},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.base}/api/v1{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            **kwargs,
        )

    def customer_says(
        self, text: str, contact: str | None = None, external_id: str | None = None
    ) -> dict[str, Any]:
        """A customer's message on the demo's API channel; the 202 (or 200 for a repeated
        ``external_id``) body: ``message_id``, ``conversation_id``..."""
        r = httpx.post(
            f"{self.base}/api/v1/channels/{self.info['api_channel_id']}/messages",
            headers={"Authorization": f"Bearer {self.info['api_channel_secret']}"},
            json={
                "external_id": external_id or uuid.uuid4().hex,
                "contact": {"external_id": contact or f"browser-{uuid.uuid4().hex[:8]}"},
                "text": text,
            },
            timeout=10,
        )
        assert r.status_code in ((200, 202) if external_id else (202,)), r.text
        return dict(r.json())


def _wait_for_knowledge(server: Server, timeout: float = 90) -> None:
    """The worker ingests the demo knowledge after start-up; the AI can only quote it once
    every document is ready."""
    token = server.token("admin")
    deadline = time.monotonic() + timeout
    statuses: list[str] = []
    while time.monotonic() < deadline:
        r = server.api("GET", "/knowledge/documents?limit=200", token)
        assert r.status_code == 200, r.text
        statuses = [d["status"] for d in r.json()["items"]]
        if statuses and all(s == "ready" for s in statuses):
            return
        time.sleep(0.3)
    raise AssertionError(f"demo knowledge not ingested in time: {statuses}")


# module scope: the sync Playwright driver must not outlive these tests (the rest of the
# suite runs its own asyncio loops)
@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The test module's own server; a module's ``SERVER_ENV`` adds settings of its own."""
    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    # a changed channel config applies at once
    fast = {"FRONTLINE_CHANNEL_CACHE_SECONDS": "0", **getattr(request.module, "SERVER_ENV", {})}
    with demo_server(folder, "browser-serve.log", fast) as (base, info):
        srv = Server(base=base, info=info, folder=folder)
        _wait_for_knowledge(srv)
        yield srv


@dataclass
class Site:
    """A customer's web site on its own origin (``http://127.0.0.1:<port>``), serving the
    pages a test puts on it. Pages are real HTTP responses: Chromium's local-network checks
    treat intercepted (``route.fulfill``) pages as public and block their sockets to
    127.0.0.1."""

    port: int
    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def put(self, path: str, html: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (html, headers or {})
        return self.origin + path


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = site.pages.get(self.path)
            if page is None:
                self.send_error(404)
                return
            body = page[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in page[1].items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def site(server: Server) -> Iterator[Site]:
    """The customer's site, added to the demo web channel's allowed origins."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Site(port=0)))
    site = Site(port=int(httpd.server_address[1]))
    httpd.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    admin = server.token("admin")
    channel_id = uuid.UUID(hex=server.widget_key.removeprefix("wk_"))
    channel = server.api("GET", f"/channels/{channel_id}", admin).json()
    config = {**channel["config"], "allowed_origins": [site.origin]}
    r = server.api("PATCH", f"/channels/{channel_id}", admin, json={"config": config})
    assert r.status_code == 200, r.text
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """``expect`` waits 5 s by default (a context's default timeout does not apply to it):
    give every browser step the same generous time, then put the default back."""
    expect.set_options(timeout=STEP_TIMEOUT)
    try:
        yield
    finally:
        expect.set_options(timeout=None)


def console_context(browser: Browser, server: Server) -> BrowserContext:
    """A desktop-sized English context that may use the clipboard (copy buttons)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(STEP_TIMEOUT)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    return ctx


def sign_in(page: Page, server: Server, who: str, password: str | None = None) -> None:
    """Sign in to the console as the demo's ``admin`` or ``operator`` (or, with its
    ``password``, as the account whose e-mail ``who`` is)."""
    page.goto(f"{server.base}/console/login?lang=en")
    page.get_by_test_id("login-email").fill(who if password else server.info[f"{who}_email"])
    page.get_by_test_id("login-password").fill(password or server.info[f"{who}_password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/console/?$"))


@pytest.fixture
def owner(browser: Browser, server: Server) -> Iterator[Page]:
    """The demo's admin signed in to the console; a script error on the page fails the test."""
    ctx = console_context(browser, server)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, server, "admin")
    try:
        yield page
    finally:
        ctx.close()
    assert not errors, errors


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A desktop-sized English context for the widget's tests (30 s for each step)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 800})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()
