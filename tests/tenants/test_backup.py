"""Backup and restore of a workspace (frontline.tenants.backup, ``frontline tenant
export|import``), on SQLite and PostgreSQL: a workspace with settings, channels, knowledge,
contacts, conversations, notes and bookings is exported, imported into a fresh database, and
exported again - the two exports are equal; secrets stay out unless asked for."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from frontline.audit import service as audit
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.migrate import upgrade
from frontline.tenants.backup import export_tenant, import_tenant
from tests.bookings.helpers import book, make_tour
from tests.conftest import TEST_SECRET, Factory, TenantFixture, empty_tables
from tests.kit.tenant_cli import frontline_tenant

API = "/api/v1"


async def rich_tenant(factory: Factory, worker: Any) -> TenantFixture:
    t = await factory.tenant()
    c = factory.client
    r = await c.post(f"{API}/categories", json={"name": "Туры"}, headers=t.owner)
    assert r.status_code == 201, r.text
    r = await c.post(
        f"{API}/knowledge/faq",
        json={"question": "Что входит в тур?", "answer": "Отель и питание включены."},
        headers=t.owner,
    )
    assert r.status_code == 202, r.text
    first = await factory.inbound(t, contact="anna", text="Здравствуйте, хочу в тур")
    await factory.inbound(t, contact="anna", text="На двоих")
    await factory.inbound(t, contact="boris", text="Hello")
    cid = first["conversation_id"]
    r = await c.post(
        f"{API}/conversations/{cid}/messages", json={"text": "Добрый день!"}, headers=t.operator
    )
    assert r.status_code in (200, 201), r.text
    r = await c.post(f"{API}/conversations/{cid}/notes", json={"text": "VIP"}, headers=t.operator)
    assert r.status_code in (200, 201), r.text
    r = await c.post(f"{API}/auth/unlock", json={"email": t.operator_email}, headers=t.owner)
    assert r.status_code == 204, r.text  # an audit-log entry
    resource, departure = await make_tour(c, t)
    r = await book(c, t, resource_id=resource["id"], departure_id=departure["id"], adults=2)
    assert r.status_code == 201, r.text
    await worker.run_until_idle()
    return t


async def fresh_database(backend: str, database_url: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
        return url
    await empty_tables(database_url)  # the same PostgreSQL database, emptied: a fresh one
    return database_url


async def test_export_import_round_trip_equals_the_original(
    factory: Factory, worker: Any, backend: str, database_url: str, tmp_path: Path
) -> None:
    t = await rich_tenant(factory, worker)
    box = factory.services.secret_box
    async with factory.services.db.reader() as s:
        original = await export_tenant(s, box, t.id, with_secrets=True)
    tables = original["tables"]
    for name in (
        "tenants",
        "users",
        "memberships",
        "channels",
        "contacts",
        "conversations",
        "messages",
        "kb_documents",
        "kb_chunks",
        "categories",
        "booking_resources",
        "booking_departures",
        "bookings",
        "audit_log",
    ):
        assert tables.get(name), f"nothing exported from {name}"
    await factory.services.db.dispose()
    url = await fresh_database(backend, database_url, tmp_path)
    # another installation with another secret key: secrets are re-encrypted with it
    other_box = SecretBox(["another-installation-key-0123456789abcdef"])
    db = Database(url)
    try:
        async with db.transaction() as s:
            await import_tenant(s, other_box, json.loads(json.dumps(original)))
        async with db.reader() as s:
            restored = await export_tenant(s, other_box, t.id, with_secrets=True)
        assert restored["tables"] == original["tables"]
        # a second import of the same workspace is refused, nothing half-written
        async with db.transaction() as s:
            with pytest.raises(Exception, match="already exists"):
                await import_tenant(s, other_box, original)
        # the restored workspace takes new rows: ids continue past the imported ones
        async with db.transaction() as s:
            await audit.record_system(s, TenantScope(t.id), "test", "restored.check")
        async with db.reader() as s:
            after = await export_tenant(s, other_box, t.id)
        ids = [row["id"] for row in after["tables"]["audit_log"]]
        assert max(ids) > max(row["id"] for row in tables["audit_log"])
    finally:
        await db.dispose()


async def test_secrets_stay_out_unless_asked(factory: Factory) -> None:
    t = await factory.tenant()
    box = factory.services.secret_box
    async with factory.services.db.reader() as s:
        document = await export_tenant(s, box, t.id)
    text = json.dumps(document)
    assert t.api_channel_secret not in text and t.email_channel_secret not in text
    channels = document["tables"]["channels"]
    assert all(c["secret_encrypted"] is None for c in channels)
    async with factory.services.db.reader() as s:
        with_secrets = json.dumps(await export_tenant(s, box, t.id, with_secrets=True))
    assert t.api_channel_secret in with_secrets


@pytest.mark.slow
def test_the_cli_round_trip(tmp_path: Path, sqlite_url: str) -> None:
    """``frontline tenant export`` then ``import`` into another SQLite file."""

    from frontline.models import Role
    from frontline.tenants import service as tenants

    asyncio.run(empty_tables(sqlite_url))
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_JSON": "false",
    }

    async def seed() -> None:
        db = Database(sqlite_url)
        async with db.transaction() as s:
            tenant = await tenants.create_tenant(s, name="CLI Tours", slug="cli-tours")
            await tenants.add_member(
                s,
                TenantScope(tenant.id),
                email="o@cli.example.com",
                password="pw-123456789",
                role=Role.OWNER,
            )
        await db.dispose()

    asyncio.run(seed())
    out = tmp_path / "cli-tours.zip"
    r = frontline_tenant(
        "export", "cli-tours", "--out", str(out), env={**env, "FRONTLINE_DATABASE_URL": sqlite_url}
    )
    assert r.returncode == 0, r.stderr
    restored = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade(restored)
    target = {**env, "FRONTLINE_DATABASE_URL": restored}
    r = frontline_tenant("import", str(out), env=target)
    assert r.returncode == 0, r.stderr
    r = frontline_tenant("import", str(out), env=target)
    assert r.returncode == 1 and "already exists" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    r = frontline_tenant("import", str(bad), env=target)
    assert r.returncode == 1 and "not a frontline-tenant-export file" in r.stderr
