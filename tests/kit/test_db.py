"""The commit edge's hooks and the reader session (real databases)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from frontline.deps import Services
from frontline.kit.db import after_commit, before_commit, on_rollback
from frontline.models import Tenant


class Boom(Exception):
    pass


async def tenant_count(services: Services) -> int:
    async with services.db.reader() as s:
        return int((await s.execute(select(func.count()).select_from(Tenant))).scalar_one())


async def test_hooks_run_on_their_outcome_only(services: Services) -> None:
    seen: list[str] = []

    async def before() -> None:
        seen.append("before")

    async def after() -> None:
        seen.append("after")

    async with services.db.transaction() as s:
        before_commit(s, before)
        after_commit(s, after)
        on_rollback(s, lambda: seen.append("rollback"))
    assert seen == ["before", "after"]

    seen.clear()
    with pytest.raises(Boom):
        async with services.db.transaction() as s:
            before_commit(s, before)
            after_commit(s, after)
            on_rollback(s, lambda: seen.append("rollback"))
            raise Boom()
    assert seen == ["rollback"]


async def test_a_failing_before_commit_hook_rolls_back(services: Services) -> None:
    async def fail() -> None:
        raise Boom("not written")

    undone: list[bool] = []
    with pytest.raises(Boom):
        async with services.db.transaction() as s:
            s.add(Tenant(name="x", slug="before-commit-fails", locale="ru", settings={}))
            await s.flush()
            before_commit(s, fail)
            on_rollback(s, lambda: undone.append(True))
    assert undone == [True]
    assert await tenant_count(services) == 0


async def test_the_reader_sees_committed_rows_and_refuses_writes(services: Services) -> None:
    async with services.db.transaction() as s:
        s.add(Tenant(name="x", slug="reader-sees-me", locale="ru", settings={}))
    assert await tenant_count(services) == 1
    with pytest.raises(RuntimeError, match="must not write"):
        async with services.db.reader() as s:
            s.add(Tenant(name="y", slug="reader-writes", locale="ru", settings={}))
    with pytest.raises(RuntimeError, match="no commit"):
        async with services.db.reader() as s:
            on_rollback(s, lambda: None)
    assert await tenant_count(services) == 1


async def test_a_statement_session_commits_its_one_write_then_runs_after_commit(
    services: Services, backend: str
) -> None:
    seen: list[int] = []

    async def after() -> None:
        seen.append(await tenant_count(services))  # committed by then

    async with services.db.statement() as s:
        await s.execute(
            insert(Tenant).values(
                id=uuid.uuid4(), name="x", slug="statement", locale="ru", settings={}
            )
        )
        after_commit(s, after)
        if backend == "postgres":
            # no transaction of its own: another connection sees the row at once
            assert await tenant_count(services) == 1
    assert seen == [1]


async def test_a_statement_session_drops_after_commit_on_error_and_refuses_units_of_work(
    services: Services,
) -> None:
    seen: list[str] = []

    async def after() -> None:
        seen.append("after")

    with pytest.raises(Boom):
        async with services.db.statement() as s:
            after_commit(s, after)
            raise Boom()
    with pytest.raises(RuntimeError, match="no unit of work"):
        async with services.db.statement() as s:
            after_commit(s, after)
            s.add(Tenant(name="y", slug="statement-orm", locale="ru", settings={}))
    assert seen == []
    assert await tenant_count(services) == 0


async def test_a_sqlite_reader_does_not_wait_for_another_process_writing(
    services: Services, backend: str
) -> None:
    """The reader takes no write lock (no ``BEGIN IMMEDIATE``): it reads the last committed
    state while another process (the CLI, say) holds the write lock; a transaction waits."""
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    path = services.db.url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None, timeout=1)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO tenants (id, name, slug, locale, settings, created_at) "
            "VALUES ('x', 'other', 'other-process', 'ru', '{}', '2026-01-01')"
        )
        assert await asyncio.wait_for(tenant_count(services), timeout=5) == 0
        other.execute("COMMIT")
    finally:
        other.close()
    assert await tenant_count(services) == 1


async def test_a_sqlite_statement_takes_one_trip_to_the_driver_thread(
    services: Services, backend: str
) -> None:
    """frontline.kit.sqlite: execute, fetch and close in one call on aiosqlite's thread
    (SQLAlchemy's own adapter makes four); results, row counts and errors as before."""
    if backend != "sqlite":
        pytest.skip("aiosqlite's thread")
    async with services.db.transaction() as s:
        s.add(Tenant(name="x", slug="one-trip", locale="ru", settings={}))
    async with services.db.transaction() as s:
        connection = await s.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        trips: list[object] = []
        real = driver._execute

        async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(fn)
            return await real(fn, *args, **kwargs)

        driver._execute = counting
        try:
            rows = (await s.execute(select(Tenant.slug))).all()
            assert len(trips) == 1
            changed = await s.execute(update(Tenant).values(name="y"))
            assert len(trips) == 2
        finally:
            del driver._execute
    assert rows == [("one-trip",)]
    assert changed.rowcount == 1  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError):
        async with services.db.transaction() as s:
            s.add(Tenant(name="z", slug="one-trip", locale="ru", settings={}))
