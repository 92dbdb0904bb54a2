"""Database engine, sessions and the commit edge.

Services never commit: they ``flush()`` and buffer side effects with :func:`after_commit`.
The edge (a request dependency or the job wrapper) opens a transaction with
:meth:`Database.transaction`, commits, and only then releases the buffered side effects
(realtime events, worker wake-ups). On rollback the buffer is dropped (and
:func:`on_rollback` hooks undo in-process reservations); :func:`before_commit` hooks write
what was buffered to go into one statement. :meth:`Database.reader` serves reads that need
no transaction of their own.

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

from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from frontline.kit.sqlite import OneTripDbapi

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
GATE_TIMEOUT_SECONDS = 30.0
_AFTER_COMMIT_KEY = "frontline.after_commit"
_ON_ROLLBACK_KEY = "frontline.on_rollback"
_BEFORE_COMMIT_KEY = "frontline.before_commit"
# SQLite: an execution option of the reader's engine: its statements run without BEGIN
_NO_BEGIN = "frontline_no_begin"


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
            # one trip to aiosqlite's thread per statement (see frontline.kit.sqlite)
            module=OneTripDbapi(),
            # the driver never opens transactions (BEGIN is ours, see below) and every
            # session and connection ends the one it began itself: the pool's extra
            # ROLLBACK on each return would be one more trip to aiosqlite's thread
            pool_reset_on_return=None,
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


_SERVER_GOING_OR_COMING = {"57P01", "57P02", "57P03"}


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached right now (refused or dropped
    connection, a server starting or shutting down, no pooled connection free in time, a
    locked SQLite file) rather than that a statement is wrong: the caller may retry later."""
    if isinstance(error, exc.DBAPIError):
        # PostgreSQL's SQLSTATE: class 08 is a connection exception; 57P01-57P03 are the
        # server shutting down, crashed or starting up
        sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
        return (
            error.connection_invalidated
            or isinstance(error, exc.OperationalError | exc.InterfaceError)
            or sqlstate.startswith("08")
            or sqlstate in _SERVER_GOING_OR_COMING
        )
    # a pool that waited pool_timeout for a connection; the driver's own refused connect
    return isinstance(error, exc.TimeoutError | ConnectionError)


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
        if not conn.get_execution_options().get(_NO_BEGIN):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def before_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` in the session's transaction just before it commits (e.g. to write
    what was buffered for a single statement); an exception rolls the transaction back."""
    session.info.setdefault(_BEFORE_COMMIT_KEY, []).append(callback)


async def run_before_commit(session: AsyncSession) -> None:
    while callbacks := session.info.pop(_BEFORE_COMMIT_KEY, []):
        for callback in callbacks:
            await callback()


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


def on_rollback(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` (synchronous, quick: it undoes an in-process reservation) if the
    session's transaction does not commit; dropped on commit."""
    session.info.setdefault(_ON_ROLLBACK_KEY, []).append(callback)


def _run_undo(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("on-rollback callback failed")


def _check_reader(session: AsyncSession) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a reader session must not write")
    if any(session.info.get(k) for k in (_AFTER_COMMIT_KEY, _BEFORE_COMMIT_KEY, _ON_ROLLBACK_KEY)):
        raise RuntimeError("a reader session has no commit to wait for")


def _check_statement(session: AsyncSession) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a statement session has no unit of work to flush")
    if session.info.get(_BEFORE_COMMIT_KEY) or session.info.get(_ON_ROLLBACK_KEY):
        raise RuntimeError("a statement session has no commit to hook")


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
        # reads without BEGIN/COMMIT (see :meth:`reader`)
        self._readmaker = async_sessionmaker(
            self.engine.execution_options(
                **(
                    {_NO_BEGIN: True}
                    if url.startswith("sqlite")
                    else {"isolation_level": "AUTOCOMMIT"}
                )
            ),
            expire_on_commit=False,
            info=dict(session_info or {}),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self._gate_size))
        return self._gate[1]

    async def _enter_gate(self) -> asyncio.Semaphore:
        """Wait for a turn at the pool's connections (first come, first served); the
        caller releases the returned gate."""
        gate = self._semaphore()
        try:
            await asyncio.wait_for(gate.acquire(), timeout=GATE_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TimeoutError("no database connection became free in time") from None
        return gate

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success then release side effects; else roll back.

        Transactions queue first-come first-served for the pool's connections: the pool's
        own queue lets newcomers overtake woken waiters, which under overload starves some
        requests for seconds. Side effects run after the connection is given back.
        """
        gate = await self._enter_gate()
        released = False
        try:
            async with self.sessionmaker() as session:
                try:
                    yield session
                    await run_before_commit(session)
                    await session.commit()
                except BaseException:
                    undo = session.info.pop(_ON_ROLLBACK_KEY, [])
                    session.info.pop(_BEFORE_COMMIT_KEY, None)
                    discard_after_commit(session)
                    try:
                        await session.rollback()
                    finally:
                        _run_undo(undo)
                    raise
                session.info.pop(_ON_ROLLBACK_KEY, None)
            gate.release()
            released = True
            await run_after_commit(session)
        finally:
            if not released:
                gate.release()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, without a transaction of its own: each statement
        commits by itself (no ``BEGIN``/``COMMIT`` round trips). Under READ COMMITTED -
        PostgreSQL's default, which Frontline uses - every statement of a transaction
        sees its own snapshot anyway, so this changes what reads see only for ``FOR
        UPDATE`` locks, which a reader must not take (nor write). On SQLite each statement
        is then a transaction of its own as well (and the reader does not take the write
        lock ``BEGIN IMMEDIATE`` would); it queues for the one connection like the rest."""
        gate = await self._enter_gate()
        try:
            async with self._readmaker() as session:
                yield session
                _check_reader(session)
        finally:
            gate.release()

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncSession]:
        """A session for a write that is a single statement: on PostgreSQL it commits by
        itself (no ``BEGIN``/``COMMIT`` round trips), and the after-commit callbacks run
        once the block is done. Only for exactly one write statement (several would each
        commit on their own) and no ORM unit of work. On SQLite it is :meth:`transaction`
        (where the same work may take more than one statement)."""
        if self.is_sqlite:
            async with self.transaction() as session:
                yield session
                _check_statement(session)  # the same rules as on PostgreSQL
            return
        gate = await self._enter_gate()
        try:
            async with self._readmaker() as session:
                try:
                    yield session
                    _check_statement(session)
                except BaseException:
                    discard_after_commit(session)
                    raise
        finally:
            gate.release()
        await run_after_commit(session)

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
