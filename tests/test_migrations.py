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
