"""Database engine, sessions and the commit edge.

Services never commit: they ``flush()`` and buffer side effects with :func:`after_commit`.
The edge (a request dependency or the job wrapper) opens a transaction with
:meth:`Database.transaction`, commits, and only then releases the buffered side effects
(realtime events, worker wake-ups). On rollback the buffer is dropped.

SQLite (the embedded default) runs in WAL mode with ``BEGIN IMMEDIATE`` transactions, so a
transaction that reads then writes cannot dead-lock on the lock upgrade; inside one process a
single pooled connection serialises access in asyncio (no busy-wait polling), and across
processes ``busy_timeout`` makes writers wait for each other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
GATE_TIMEOUT_SECONDS = 30.0
_AFTER_COMMIT_KEY = "frontline.after_commit"


def make_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    """An async engine with the dialect-specific settings Frontline relies on."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 30},
        )
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout on the hot path. Connections are
    # recycled periodically instead, and a request that meets a dropped connection fails
    # once with a 5xx the client retries (inbound redeliveries are idempotent).
    # No overflow: overflow connections are closed when returned, so under sustained load
    # every burst past ``pool_size`` would pay a new connection (TLS negotiation, auth,
    # re-preparing statements). Requests beyond the pool wait for a connection instead.
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=1800
    )


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so that we can issue BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # SQLite's own lower() (used for ILIKE) folds ASCII only; searches must be
        # case-insensitive in Russian too
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the session's transaction has committed; drop it on rollback."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:  # a side effect must never undo or hide a committed change
            log.exception("after-commit callback failed")


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


class Database:
    """The engine and session factory of one process."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        echo: bool = False,
        session_info: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, echo=echo)
        self._gate_size = 1 if url.startswith("sqlite") else pool_size
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        # ``session_info`` is copied into every session's ``info`` (e.g. the realtime broker)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, info=dict(session_info or {})
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self._gate_size))
        return self._gate[1]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success then release side effects; else roll back.

        Transactions queue first-come first-served for the pool's connections: the pool's
        own queue lets newcomers overtake woken waiters, which under overload starves some
        requests for seconds. Side effects run after the connection is given back.
        """
        gate = self._semaphore()
        try:
            await asyncio.wait_for(gate.acquire(), timeout=GATE_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TimeoutError("no database connection became free in time") from None
        released = False
        try:
            async with self.sessionmaker() as session:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    discard_after_commit(session)
                    await session.rollback()
                    raise
            gate.release()
            released = True
            await run_after_commit(session)
        finally:
            if not released:
                gate.release()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("database ping failed", exc_info=True)
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
