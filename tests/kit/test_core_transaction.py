"""Database.core_transaction: the inbound path's unit of work on a connection (real
databases): the commit edge's hooks, the ORM session it lends in the same transaction, and
statements deferred into the next trip on SQLite."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from frontline.deps import Services
from frontline.kit.db import after_commit, before_commit, on_rollback
from frontline.models import Tenant


class Boom(Exception):
    pass


async def _count(services: Services) -> int:
    async with services.db.reader() as s:
        return int((await s.execute(select(func.count()).select_from(Tenant))).scalar_one())


def _tenant(slug: str) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "name": slug, "slug": slug, "locale": "ru", "settings": {}}


async def test_commits_then_runs_after_commit_hooks_and_rolls_back_on_error(
    services: Services,
) -> None:
    seen: list[Any] = []

    async def before() -> None:
        seen.append("before")

    async def after() -> None:
        seen.append(("after", await _count(services)))  # committed by then

    async with services.db.core_transaction() as tx:
        await tx.execute(insert(Tenant).values(**_tenant("core-commit")))
        before_commit(tx, before)
        after_commit(tx, after)
        on_rollback(tx, lambda: seen.append("rollback"))
    assert seen == ["before", ("after", 1)]

    seen.clear()
    with pytest.raises(Boom):
        async with services.db.core_transaction() as tx:
            await tx.execute(insert(Tenant).values(**_tenant("core-rollback")))
            after_commit(tx, after)
            on_rollback(tx, lambda: seen.append("rollback"))
            raise Boom()
    assert seen == ["rollback"]
    assert await _count(services) == 1


async def test_its_session_shares_the_transaction_and_the_hooks(services: Services) -> None:
    """ORM writes and Core statements are one transaction (the session is flushed before
    a Core statement and at the commit); hooks added through either run in their order."""
    seen: list[str] = []

    def hook(name: str) -> Any:
        async def run() -> None:
            seen.append(name)

        return run

    async with services.db.core_transaction() as tx:
        after_commit(tx, hook("core 1"))
        session = tx.session()
        assert tx.session() is session
        session.add(Tenant(**_tenant("orm-row")))
        after_commit(session, hook("session"))
        # the pending ORM row is written before the Core statement that needs it
        found = (await tx.execute(select(Tenant.id).where(Tenant.slug == "orm-row"))).all()
        assert len(found) == 1
        session.add(Tenant(**_tenant("orm-row-2")))  # flushed at the commit
        after_commit(tx, hook("core 2"))
    assert seen == ["core 1", "session", "core 2"]
    assert await _count(services) == 2

    with pytest.raises(Boom):
        async with services.db.core_transaction() as tx:
            tx.session().add(Tenant(**_tenant("orm-gone")))
            await tx.execute(insert(Tenant).values(**_tenant("core-gone")))
            raise Boom()
    assert await _count(services) == 2


async def test_a_deferred_statement_runs_with_the_next_one_or_the_commit(
    services: Services, backend: str
) -> None:
    """On SQLite it rides in the next statement's (or the commit's) trip to the driver
    thread; on PostgreSQL it runs at once. Either way it is part of the transaction: run
    before what follows, dropped on rollback."""
    row = _tenant("deferred")
    async with services.db.core_transaction() as tx:
        await tx.execute(insert(Tenant).values(**row))
    rename = update(Tenant).where(Tenant.id == row["id"]).values(name=Tenant.name + "!")

    async with services.db.core_transaction() as tx:
        await tx.execute_deferred(rename, {})
        name = (await tx.execute(select(Tenant.name).where(Tenant.id == row["id"]))).scalar()
        assert name == "deferred!"  # ran first, in the same trip
        await tx.execute_deferred(rename, {})  # the last one: runs in the commit's trip
    async with services.db.reader() as s:
        assert (await s.get(Tenant, row["id"])) is not None
        name = (await s.execute(select(Tenant.name).where(Tenant.id == row["id"]))).scalar()
    assert name == "deferred!!"

    with pytest.raises(Boom):
        async with services.db.core_transaction() as tx:
            await tx.execute_deferred(rename, {})
            raise Boom()
    async with services.db.core_transaction() as tx:  # the next transaction does not run it
        name = (await tx.execute(select(Tenant.name).where(Tenant.id == row["id"]))).scalar()
    assert name == "deferred!!"


async def test_a_failing_deferred_statement_fails_the_transaction(services: Services) -> None:
    first, second = _tenant("deferred-a"), _tenant("deferred-b")
    async with services.db.core_transaction() as tx:
        await tx.execute(insert(Tenant).values(**first))
        await tx.execute(insert(Tenant).values(**second))
    clash = update(Tenant).where(Tenant.id == second["id"]).values(slug=first["slug"])
    with pytest.raises(Exception, match=r"(?i)unique"):
        async with services.db.core_transaction() as tx:
            await tx.execute(insert(Tenant).values(**_tenant("deferred-c")))
            await tx.execute_deferred(clash, {})
    assert await _count(services) == 2


async def test_what_a_before_commit_hook_adds_to_the_session_is_committed(
    services: Services,
) -> None:
    """As with ``Database.transaction`` (whose commit flushes after the hooks): a hook that
    writes through the session (the job registry's held jobs do) is part of the commit."""
    async with services.db.core_transaction() as tx:

        async def write() -> None:
            tx.session().add(Tenant(**_tenant("from-hook")))

        before_commit(tx, write)
    assert await _count(services) == 1


async def test_sqlite_begins_immediately_in_the_first_statements_trip(
    services: Services, backend: str
) -> None:
    """SQLite: the core transaction's BEGIN IMMEDIATE goes with its first statement (one
    trip to aiosqlite's thread for both), and takes the write lock there: another writer
    cannot begin until the commit."""
    if backend != "sqlite":
        pytest.skip("SQLite's BEGIN IMMEDIATE and aiosqlite's thread")
    path = services.db.url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    try:
        async with services.db.core_transaction() as tx:
            raw = await tx.connection.get_raw_connection()
            driver = raw.driver_connection
            trips: list[object] = []
            real = driver._execute  # type: ignore[union-attr]

            async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
                trips.append(fn)
                return await real(fn, *args, **kwargs)

            driver._execute = counting  # type: ignore[union-attr]
            try:
                await tx.execute(insert(Tenant).values(**_tenant("immediate")))
                assert len(trips) == 1
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                del driver._execute  # type: ignore[union-attr]
        other.execute("BEGIN IMMEDIATE")  # free again after the commit
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await _count(services) == 1
