"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from frontline.models import Base


async def _diff(url: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(ctx, Base.metadata))

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    diff = asyncio.run(_diff(database_url))
    assert diff == [], f"models and migrations disagree: {diff}"


def test_every_model_table_is_migrated(database_url: str) -> None:
    tables = asyncio.run(_tables(database_url))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_and_upgrade_again(tmp_path: Any) -> None:
    from frontline.migrate import downgrade, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/roundtrip.db"
    upgrade(url)
    downgrade(url, "base")
    assert asyncio.run(_tables(url)) <= {"alembic_version"}
    upgrade(url)
    assert asyncio.run(_diff(url)) == []


def test_every_downgrade_keeps_sqlite_autoincrement(tmp_path: Any) -> None:
    """SQLite drops or alters a column by copying the table; a copy without AUTOINCREMENT
    gives a deleted row's id again, and the knowledge index catches up by ids above the
    highest it has (a downgrade of 0023 once lost it: a replaced chunk's terms stayed
    searchable under the new chunk's id). Down one revision at a time from the head."""
    import sqlite3

    from alembic.script import ScriptDirectory

    from frontline.migrate import alembic_config, downgrade, upgrade

    path = tmp_path / "steps.db"
    url = f"sqlite+aiosqlite:///{path}"
    wanted = {
        name
        for name, table in Base.metadata.tables.items()
        if table.kwargs.get("sqlite_autoincrement")
    }
    assert wanted  # the knowledge tables ask for it
    upgrade(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    steps = [rev.down_revision for rev in script.walk_revisions() if rev.down_revision]
    for target in steps:
        assert isinstance(target, str)  # one line of history
        downgrade(url, target)
        with sqlite3.connect(path) as conn:
            sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        lost = [name for name in wanted if name in sql and "AUTOINCREMENT" not in sql[name]]
        assert not lost, f"after the downgrade to {target}: {lost}"
