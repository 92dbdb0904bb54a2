"""Test fixtures: every test that takes ``backend`` runs on SQLite and, when
``FRONTLINE_TEST_POSTGRES_URL`` is set, on PostgreSQL too.

Databases are real. The schema is built by the Alembic migrations once per session; each
test starts from empty tables (the application commits at its own edges, across several
sessions and processes, so a wrapping rollback cannot isolate it - emptying the tables can).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from frontline.app import build_worker, create_app
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.migrate import upgrade
from frontline.models import AiSettings, Base
from frontline.settings import Settings


def _isolate_xdist_worker() -> None:
    """Under ``pytest -n`` each worker gets its own PostgreSQL database and Redis db number.

    The session fixtures drop and recreate the PostgreSQL schema and some tests flush Redis,
    so two workers must never share them. Set before any test module reads the variables.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    index = int(worker[2:])
    pg = os.environ.get("FRONTLINE_TEST_POSTGRES_URL")
    if pg:
        base = make_url(pg)
        name = f"{base.database}_xdist{index}"
        asyncio.run(_create_database(base, name))
        os.environ["FRONTLINE_TEST_POSTGRES_URL"] = base.set(database=name).render_as_string(
            hide_password=False
        )
    redis = os.environ.get("FRONTLINE_TEST_REDIS_URL")
    if redis:
        parts = urlsplit(redis)
        number = int(parts.path.strip("/") or 0)
        db = (number - index) % 16
        os.environ["FRONTLINE_TEST_REDIS_URL"] = urlunsplit(parts._replace(path=f"/{db}"))


async def _create_database(base: URL, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        user=base.username,
        password=base.password,
        host=base.host,
        port=base.port,
        database=base.database,
    )
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # a racing run
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def pytest_configure(config: pytest.Config) -> None:
    # xdist's own order (files by number of tests) is replaced by the one below
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first, for ``pytest -n 2 --dist loadfile``: files holding a test marked
    ``slow`` (minutes: subprocess fleets, the XQuAD-R evaluation) start first, then the
    others by number of tests, most first (xdist's own order). With xdist's order the few
    long tests of a small file started last and ran alone for up to ten minutes while the
    other worker sat idle."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def rank(group: list[pytest.Item]) -> tuple[bool, int]:
        slow = any(item.get_closest_marker("slow") is not None for item in group)
        return (not slow, -len(group))

    items[:] = [item for group in sorted(files.values(), key=rank) for item in group]


_isolate_xdist_worker()
PG_URL = os.environ.get("FRONTLINE_TEST_POSTGRES_URL")
# shared/ lies beside the checkout (in CI too); FRONTLINE_EVAL_DATA overrides
EVAL_DATA = Path(
    os.environ.get("FRONTLINE_EVAL_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "eval-data"
)
# in CI the data must be there: a missing folder fails instead of skipping
EVAL_DATA_MISSING = pytest.mark.skipif(
    not EVAL_DATA.is_dir() and not os.environ.get("CI"), reason=f"no eval data at {EVAL_DATA}"
)
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "frontline-test.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not PG_URL:
        pytest.skip("FRONTLINE_TEST_POSTGRES_URL not set")
    asyncio.run(_reset_pg_schema(PG_URL))
    upgrade(PG_URL)
    return PG_URL


async def _reset_pg_schema(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def empty_tables(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                await conn.execute(Base.metadata.tables[name].delete())
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("postgres_url" if backend == "postgres" else "sqlite_url")
    asyncio.run(empty_tables(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        attachments_dir=str(tmp_path / "attachments"),
        # inbound JSON bodies with files: small, so the limit is cheap to test
        attachments_max_body_bytes=2 * 1024 * 1024,
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        run_worker_in_process=False,
        log_json=False,
        job_backoff_base_seconds=0.01,
        job_backoff_max_seconds=0.05,
        worker_poll_seconds=0.05,
        outbound_timeout_seconds=2.0,
        # tests send bursts from one contact; the limits' own tests set them low
        inbound_contact_messages_per_minute=100_000,
        inbound_tenant_messages_per_minute=100_000,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, run_worker=False)
    yield application
    services: Services = application.state.services
    await services.broker.close()
    await services.db.dispose()


@pytest.fixture
def services(app: Any) -> Services:
    result: Services = app.state.services
    return result


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def worker(services: Services) -> Worker:
    return build_worker(services)


@dataclass
class TenantFixture:
    """A tenant with an owner, an operator and one API and one e-mail channel."""

    id: uuid.UUID
    slug: str
    owner_email: str
    owner_password: str
    owner_token: str
    owner_id: uuid.UUID
    operator_email: str
    operator_token: str
    operator_id: uuid.UUID
    api_channel_id: str
    api_channel_secret: str
    email_channel_id: str
    email_channel_secret: str

    @property
    def owner(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.owner_token}"}

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_token}"}

    @property
    def api_channel(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_channel_secret}"}


class Factory:
    """Builds tenants through the real services and the real HTTP API."""

    def __init__(self, services: Services, client: httpx.AsyncClient) -> None:
        self.services = services
        self.client = client
        self.counter = 0

    async def login(self, email: str, password: str) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def tenant(
        self,
        *,
        callback_url: str | None = None,
        smtp_port: int = 1025,
        slug: str | None = None,
        ai: bool = False,
    ) -> TenantFixture:
        """A tenant; its AI first line is off unless ``ai`` (so conversations wait for an
        operator, which most platform tests exercise; the AI tests turn it on)."""
        from frontline.channels import service as channels
        from frontline.channels.base import ChannelType
        from frontline.kit.repository import TenantScope
        from frontline.models import Role
        from frontline.tenants import service as tenants

        self.counter += 1
        slug = slug or f"t{self.counter}-{uuid.uuid4().hex[:6]}"
        owner_email = f"owner@{slug}.example.com"
        operator_email = f"operator@{slug}.example.com"
        password = "correct horse battery"
        async with self.services.db.transaction() as session:
            tenant = await tenants.create_tenant(session, name=f"Tenant {slug}", slug=slug)
            if not ai:
                session.add(AiSettings(tenant_id=tenant.id, ai_enabled=False))
            scope = TenantScope(tenant.id)
            owner = await tenants.add_member(
                session, scope, email=owner_email, password=password, role=Role.OWNER
            )
            operator = await tenants.add_member(
                session, scope, email=operator_email, password=password, role=Role.OPERATOR
            )
            config: dict[str, Any] = {"callback_url": callback_url} if callback_url else {}
            api, api_secret = await channels.create_channel(
                session,
                scope,
                self.services.secret_box,
                channel_type=ChannelType.API,
                name="API",
                config=config,
            )
            email, email_secret = await channels.create_channel(
                session,
                scope,
                self.services.secret_box,
                channel_type=ChannelType.EMAIL,
                name="Mail",
                config={
                    "from_address": f"support@{slug}.example.com",
                    "from_name": "Support",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp_port,
                },
            )
            tenant_id, owner_id, operator_id = tenant.id, owner.id, operator.id
        owner_tokens = await self.login(owner_email, password)
        operator_tokens = await self.login(operator_email, password)
        return TenantFixture(
            id=tenant_id,
            slug=slug,
            owner_email=owner_email,
            owner_password=password,
            owner_token=owner_tokens["access_token"],
            owner_id=owner_id,
            operator_email=operator_email,
            operator_token=operator_tokens["access_token"],
            operator_id=operator_id,
            api_channel_id=str(api.id),
            api_channel_secret=api_secret,
            email_channel_id=str(email.id),
            email_channel_secret=email_secret,
        )

    async def inbound(
        self,
        t: TenantFixture,
        *,
        external_id: str | None = None,
        contact: str = "cust-1",
        text: str = "Hello",
    ) -> dict[str, Any]:
        r = await self.client.post(
            f"/api/v1/channels/{t.api_channel_id}/messages",
            headers=t.api_channel,
            json={
                "external_id": external_id or uuid.uuid4().hex,
                "contact": {"external_id": contact},
                "text": text,
            },
        )
        assert r.status_code in (200, 202), r.text
        data: dict[str, Any] = r.json()
        return data


@pytest.fixture
def factory(services: Services, client: httpx.AsyncClient) -> Factory:
    return Factory(services, client)


@pytest.fixture
def artifacts_dir() -> Iterator[Path]:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    yield path


@pytest.fixture
def fresh_rate_window() -> None:
    """The rate limits count fixed one-minute windows (``RATE_WINDOW_SECONDS``), so a test
    that fills a limit and expects the next event refused fails if a minute boundary falls
    in between. It starts the test early in a minute instead (waiting at most 20 s)."""
    into = time.time() % 60
    if into > 40:
        time.sleep(60 - into + 0.05)
