"""Backup archives (frontline.tenants.archive, ``frontline tenant export|import``) on SQLite
and PostgreSQL: a workspace's rows and its customers' files go into one zip; an import into
a fresh database and an empty attachment store (local files or S3) gives the same rows and
the same bytes; another workspace's data never appears in an export; a corrupt, truncated,
tampered or foreign archive is refused with a clear error before anything is written."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from frontline.attachments.storage.base import AttachmentStore, BlobNotFound
from frontline.attachments.storage.local import LocalFileStore
from frontline.attachments.storage.registry import build_store
from frontline.errors import Unprocessable
from frontline.kit.db import Database
from frontline.models import Base
from frontline.tenants.archive import DOCUMENT, export_archive, import_archive, read_archive
from frontline.tenants.backup import SKIPPED_TABLES, export_tenant
from tests.attachments.conftest import PDF, b64, png, s3_bucket, s3_server  # noqa: F401
from tests.attachments.test_storage import s3_config
from tests.conftest import TEST_SECRET, Factory, TenantFixture, empty_tables
from tests.kit.tenant_cli import frontline_tenant
from tests.tenants.test_backup import fresh_database, rich_tenant

API = "/api/v1"


async def with_files(factory: Factory, t: TenantFixture, contact: str, *files: bytes) -> None:
    body = {
        "external_id": uuid.uuid4().hex,
        "contact": {"external_id": contact},
        "text": f"Файлы от {contact}",
        "attachments": [
            {
                "filename": f"f{n}.{'pdf' if data.startswith(b'%PDF') else 'png'}",
                "data": b64(data),
            }
            for n, data in enumerate(files)
        ],
    }
    r = await factory.client.post(
        f"{API}/channels/{t.api_channel_id}/messages", json=body, headers=t.api_channel
    )
    assert r.status_code == 202, r.text


async def two_workspaces(factory: Factory, worker: Any) -> tuple[TenantFixture, TenantFixture]:
    """``a``: a rich workspace with three files (two the same bytes); ``b``: another one with
    files of its own and one that ``a`` also has."""
    a = await rich_tenant(factory, worker)
    await with_files(factory, a, "anna", png(3, 3), PDF)
    await with_files(factory, a, "boris", PDF)  # the same bytes: one blob
    b = await factory.tenant()
    await with_files(factory, b, "bella", png(5, 5), PDF)
    await factory.inbound(b, contact="bella", text="Секрет workspace B")
    await worker.run_until_idle()
    return a, b


async def counts(db: Database, tenant_id: uuid.UUID) -> dict[str, int]:
    async with db.reader() as s:
        document = await export_tenant(s, _box(), tenant_id)
    return {name: len(rows) for name, rows in document["tables"].items()}


def _box() -> Any:
    from frontline.kit.crypto import SecretBox

    return SecretBox([TEST_SECRET])


async def blob_keys(store: AttachmentStore, keys: list[str]) -> dict[str, bytes]:
    found = {}
    for key in keys:
        with contextlib.suppress(BlobNotFound):
            found[key] = await store.get(key)
    return found


def test_every_table_is_exported_or_skipped_with_a_reason() -> None:
    """A new tenant-owned table must carry ``tenant_id`` (then it is exported) or be named
    in SKIPPED_TABLES: a table the backup silently leaves out fails here."""
    from frontline.tenants.backup import _owned

    orphans = [
        t.name
        for t in Base.metadata.sorted_tables
        if t.name not in SKIPPED_TABLES and _owned(t, uuid.uuid4()) is None
    ]
    assert orphans == []
    # jobs and sessions are not a workspace's data; the analytics roll-ups are rebuilt by
    # their triggers as the conversations and messages are restored
    assert (
        frozenset({"jobs", "refresh_tokens", "analytics_conversations", "analytics_hourly"})
        == SKIPPED_TABLES
    )


@pytest.mark.parametrize("storage", ["local", "s3"])
async def test_archive_round_trip_into_a_fresh_database_and_store(
    factory: Factory,
    worker: Any,
    backend: str,
    database_url: str,
    tmp_path: Path,
    storage: str,
    request: pytest.FixtureRequest,
) -> None:
    a, b = await two_workspaces(factory, worker)
    source = factory.services.attachments.store
    before = await counts(factory.services.db, a.id)
    out = tmp_path / "a.zip"
    async with factory.services.db.reader() as s:
        with out.open("wb") as f:
            summary = await export_archive(s, factory.services.secret_box, source, a.id, f)
    assert summary.blobs == 2 and summary.missing == []  # png + pdf (the pdf twice: one blob)
    assert before["attachments"] == 3 and before["messages"] >= 5

    # nothing of workspace b is in a's archive: rows, ids, texts or files
    document, blobs = read_archive(out)
    raw = out.read_bytes()
    text = json.dumps(document, ensure_ascii=False)
    assert str(b.id) not in text and b.id.hex not in text and "Секрет workspace B" not in text
    assert b.slug not in text and b.owner_email not in text
    assert all(key.startswith(f"{a.id.hex}/") for key in blobs)
    assert png(5, 5) not in raw and hashlib.sha256(png(5, 5)).hexdigest() not in text
    for rows in document["tables"].values():
        for row in rows:
            assert row.get("tenant_id") in (None, str(a.id)), row

    await factory.services.db.dispose()
    url = await fresh_database(backend, database_url, tmp_path)
    if storage == "s3":
        endpoint = request.getfixturevalue("s3_server")
        target = build_store(s3_config(endpoint, request.getfixturevalue("s3_bucket")))
    else:
        target = LocalFileStore(tmp_path / "restored-files")
    db = Database(url)
    try:
        async with db.transaction() as s:
            restored = await import_archive(s, _box(), target, out)
        assert restored.tenant_id == a.id and restored.blobs == 2
        assert await counts(db, a.id) == before
        # every stored attachment's file is in the new store, byte for byte
        async with db.reader() as s:
            attachments = Base.metadata.tables["attachments"]
            rows = (
                await s.execute(
                    select(attachments.c.storage_key, attachments.c.sha256).where(
                        attachments.c.storage_key.is_not(None)
                    )
                )
            ).all()
        assert len(rows) == 3
        for key, sha256 in rows:
            assert hashlib.sha256(await target.get(key)).hexdigest() == sha256
        # b was never restored
        async with db.reader() as s:
            tenants = Base.metadata.tables["tenants"]
            assert (await s.execute(select(func.count()).select_from(tenants))).scalar_one() == 1
        # a second import is refused, nothing half-written
        async with db.transaction() as s:
            with pytest.raises(Exception, match="already exists"):
                await import_archive(s, _box(), target, out)
        assert await counts(db, a.id) == before
    finally:
        await target.close()
        await db.dispose()


def _rewrite(source: Path, target: Path, change: Any) -> None:
    """Copy the archive's entries through ``change(name, data) -> (name, data) | None``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            changed = change(info.filename, old.read(info.filename))
            if changed is not None:
                new.writestr(changed[0], changed[1])


async def test_bad_archives_are_refused_before_anything_is_written(
    factory: Factory, worker: Any, backend: str, database_url: str, tmp_path: Path
) -> None:
    a, _b = await two_workspaces(factory, worker)
    good = tmp_path / "good.zip"
    async with factory.services.db.reader() as s:
        with good.open("wb") as f:
            await export_archive(
                s, factory.services.secret_box, factory.services.attachments.store, a.id, f
            )
    raw = good.read_bytes()
    document, blobs = read_archive(good)
    some_blob = f"blobs/{document['blobs'][0]['sha256']}"

    def doc_with(**changes: Any) -> Any:
        def change(name: str, data: bytes) -> tuple[str, bytes]:
            if name == DOCUMENT:
                return name, json.dumps({**json.loads(data), **changes}).encode()
            return name, data

        return change

    cases: dict[str, tuple[Any, str]] = {
        "truncated": (raw[: len(raw) // 2], "not a readable frontline-tenant-export archive"),
        "not a zip": (b"PK\x03\x04 and then garbage" * 10, "not a readable"),
        "tampered file": (
            lambda n, d: (n, d[:-1] + bytes([d[-1] ^ 1])) if n == some_blob else (n, d),
            "does not match its SHA-256",
        ),
        "missing file": (lambda n, d: None if n == some_blob else (n, d), "is missing"),
        "no document": (lambda n, d: None if n == DOCUMENT else (n, d), "no workspace.json"),
        "wrong version": (doc_with(version=99), "unsupported backup archive version 99"),
        "foreign format": (doc_with(format="something-else"), "not a frontline-tenant-export"),
        "foreign attachment": (
            doc_with(
                tables={
                    **document["tables"],
                    "attachments": [
                        {**document["tables"]["attachments"][0], "storage_key": "0" * 32 + "/x"}
                    ],
                }
            ),
            "outside this workspace",
        ),
        "foreign file key": (
            doc_with(blobs=[{**document["blobs"][0], "key": "0" * 32 + "/x"}]),
            "is not this workspace's",
        ),
    }
    await factory.services.db.dispose()
    url = await fresh_database(backend, database_url, tmp_path)
    store = LocalFileStore(tmp_path / "restore-store")
    db = Database(url)
    try:
        for name, (content, message) in cases.items():
            path = tmp_path / f"{name}.zip"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                _rewrite(good, path, content)
            async with db.transaction() as s:
                with pytest.raises(Unprocessable, match=message):
                    await import_archive(s, _box(), store, path)
            assert not (tmp_path / "restore-store").exists(), name  # no file written
            async with db.reader() as s:
                tenants = Base.metadata.tables["tenants"]
                found = (await s.execute(select(func.count()).select_from(tenants))).scalar_one()
            assert found == 0, name  # no row written
        # the good one still imports afterwards
        async with db.transaction() as s:
            await import_archive(s, _box(), store, good)
        assert sorted(await blob_keys(store, list(blobs))) == sorted(blobs)
    finally:
        await db.dispose()


def test_the_cli_archive_round_trip_with_files(tmp_path: Path, sqlite_url: str) -> None:
    """``frontline tenant export`` writes a zip with the files; ``import`` restores rows and
    files into another installation; a truncated archive fails with exit 1 and a message."""
    asyncio.run(empty_tables(sqlite_url))
    files = tmp_path / "files"
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_JSON": "false",
    }

    async def seed() -> str:
        from frontline.app import create_app
        from frontline.settings import Settings

        settings = Settings(
            env="test",
            database_url=sqlite_url,
            secret_key=TEST_SECRET,  # type: ignore[arg-type]
            run_worker_in_process=False,
            log_json=False,
            attachments_dir=str(files),
        )
        app = create_app(settings, run_worker=False)
        import httpx

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            factory = Factory(app.state.services, c)
            t = await factory.tenant(slug="cli-files")
            await with_files(factory, t, "anna", png(4, 4))
        await app.state.services.aclose()
        return t.slug

    slug = asyncio.run(seed())
    out = tmp_path / "backup.zip"
    source_env = {
        **env,
        "FRONTLINE_DATABASE_URL": sqlite_url,
        "FRONTLINE_ATTACHMENTS_DIR": str(files),
    }
    r = frontline_tenant("export", slug, "--out", str(out), env=source_env)
    assert r.returncode == 0, r.stderr
    assert "and 1 files" in r.stdout and zipfile.is_zipfile(out)
    from frontline.migrate import upgrade

    restored = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    upgrade(restored)
    target_files = tmp_path / "restored-files"
    target = {
        **env,
        "FRONTLINE_DATABASE_URL": restored,
        "FRONTLINE_ATTACHMENTS_DIR": str(target_files),
    }
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(out.read_bytes()[:-200])
    r = frontline_tenant("import", str(truncated), env=target)
    assert r.returncode == 1 and "not a readable frontline-tenant-export archive" in r.stderr
    assert not target_files.exists()
    r = frontline_tenant("import", str(out), env=target)
    assert r.returncode == 0, r.stderr
    assert "1 files" in r.stdout
    stored = [p for p in target_files.rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [png(4, 4)]
