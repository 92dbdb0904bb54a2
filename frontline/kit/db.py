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
from typing import Any, Protocol

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import UpdateBase

from frontline.kit import sqlite
from frontline.kit.sqlite import OneTripDbapi

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
GATE_TIMEOUT_SECONDS = 30.0
_AFTER_COMMIT_KEY = "frontline.after_commit"
_ON_ROLLBACK_KEY = "frontline.on_rollback"
_BEFORE_COMMIT_KEY = "frontline.before_commit"
# SQLite: an execution option of the reader's engine: its statements run without BEGIN
_NO_BEGIN = "frontline_no_begin"
# SQLite: an execution option of the core transactions' engine: BEGIN IMMEDIATE is sent in
# the trip of the transaction's first statement (see Database.core_transaction)
_DEFER_BEGIN = "frontline_defer_begin"


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


class HasInfo(Protocol):
    """What the commit hooks below need: a session's (or a :class:`CoreTransaction`'s)
    ``info`` dictionary, where they are buffered."""

    @property
    def info(self) -> dict[Any, Any]: ...


class Unit(Protocol):
    """One unit of work as the inbound hot path sees it: Core statements run on it
    (``execute``), commit hooks are buffered in its ``info``, and ``session()`` gives an
    ORM session in the same transaction for the paths that need entities. Either a
    :class:`CoreTransaction` or an ORM session wrapped by :func:`as_unit`."""

    @property
    def info(self) -> dict[Any, Any]: ...

    @property
    def bind(self) -> Any: ...

    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]: ...

    async def execute_deferred(self, statement: UpdateBase, params: dict[str, Any]) -> None:
        """Run a statement whose result nobody reads, at the latest with the unit's next
        statement or its commit (see :meth:`CoreTransaction.execute_deferred`)."""

    def session(self) -> AsyncSession: ...


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
        options = conn.get_execution_options()
        if options.get(_NO_BEGIN):
            return
        if options.get(_DEFER_BEGIN) and sqlite.defer_sql(
            conn.connection.dbapi_connection, "BEGIN IMMEDIATE"
        ):
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def before_commit(session: HasInfo, callback: AfterCommit) -> None:
    """Run ``callback`` in the session's transaction just before it commits (e.g. to write
    what was buffered for a single statement); an exception rolls the transaction back."""
    session.info.setdefault(_BEFORE_COMMIT_KEY, []).append(callback)


async def run_before_commit(session: HasInfo) -> None:
    while callbacks := session.info.pop(_BEFORE_COMMIT_KEY, []):
        for callback in callbacks:
            await callback()


def after_commit(session: HasInfo, callback: AfterCommit) -> None:
    """Run ``callback`` once the session's transaction has committed; drop it on rollback."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


async def run_after_commit(session: HasInfo) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:  # a side effect must never undo or hide a committed change
            log.exception("after-commit callback failed")


def discard_after_commit(session: HasInfo) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


def on_rollback(session: HasInfo, callback: Callable[[], None]) -> None:
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


class SessionUnit:
    """An ORM session seen as a :class:`Unit` (its statements, hooks and itself)."""

    __slots__ = ("_session",)

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def info(self) -> dict[Any, Any]:
        return self._session.info

    @property
    def bind(self) -> Any:
        return self._session.bind

    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        return await self._session.execute(statement, params)

    async def execute_deferred(self, statement: UpdateBase, params: dict[str, Any]) -> None:
        await self._session.execute(statement, params)

    def session(self) -> AsyncSession:
        return self._session


def as_unit(session: AsyncSession | Unit) -> Unit:
    return SessionUnit(session) if isinstance(session, AsyncSession) else session


_DEFERRABLE: dict[UpdateBase, sqlite.Deferrable] = {}


def _deferrable(statement: UpdateBase, dialect: Any) -> sqlite.Deferrable:
    """Compiled once per statement (the statements deferred are built once, too)."""
    found = _DEFERRABLE.get(statement)
    if found is None:
        found = _DEFERRABLE[statement] = sqlite.Deferrable(statement, dialect)
    return found


class CoreTransaction:
    """A transaction on a pooled connection, without an ORM session: what the inbound hot
    path runs on (see :meth:`Database.core_transaction`). Its Core statements skip the
    session's unit-of-work and ORM execution machinery (measured: about 40% of the
    instructions of an inbound request). A path that needs entities asks for
    :meth:`session`: an ORM session on the same connection and transaction, made on first
    use, whose ``info`` is this transaction's (one buffer of commit hooks, in the order they
    were added)."""

    __slots__ = ("_session", "bind", "connection", "info")

    def __init__(self, connection: AsyncConnection, engine: AsyncEngine, info: dict[Any, Any]):
        self.connection = connection
        # what a :meth:`Database.transaction` session's ``bind`` is (the engine)
        self.bind = engine
        self.info = info
        self._session: AsyncSession | None = None

    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        if self._session is not None:
            # what the session would do before a statement of its own (autoflush)
            await self._session.flush()
        return await self.connection.execute(statement, params)

    async def execute_deferred(self, statement: UpdateBase, params: dict[str, Any]) -> None:
        """Run ``statement`` (no result is read) now, or on SQLite in the trip of the
        transaction's next statement or commit (see :func:`frontline.kit.sqlite.defer`:
        one hand-over to aiosqlite's thread less, and no execution machinery: the
        statement is compiled once). An error it raises surfaces there."""
        if self._session is not None:
            await self._session.flush()  # what it follows must be written first
        sync = self.connection.sync_connection
        if self.bind.dialect.name == "sqlite" and sync is not None:
            dbapi_connection = sync.connection.dbapi_connection
            if sqlite.defer(dbapi_connection, _deferrable(statement, self.bind.dialect), params):
                return
        await self.connection.execute(statement, params)

    def session(self) -> AsyncSession:
        if self._session is None:
            session = AsyncSession(bind=self.connection, expire_on_commit=False)
            # Session.info is a memoized attribute: put this transaction's dict in its place
            vars(session.sync_session)["info"] = self.info
            self._session = session
        return self._session

    async def _flush(self) -> None:
        if self._session is not None:
            await self._session.flush()

    async def _close(self) -> None:
        if self._session is not None:
            # the session joined the connection's transaction: closing it leaves that alone
            await self._session.close()


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
        self._session_info = dict(session_info or {})
        # core transactions' connections (the same pool): on SQLite their BEGIN IMMEDIATE
        # goes with their first statement, one trip to the driver thread less
        self._core_engine = (
            self.engine.execution_options(**{_DEFER_BEGIN: True})
            if url.startswith("sqlite")
            else self.engine
        )
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
    async def core_transaction(self) -> AsyncIterator[CoreTransaction]:
        """:meth:`transaction` on a connection instead of an ORM session (the same gate,
        the same commit, rollback and after-commit hooks); see :class:`CoreTransaction`.
        An ORM session asked of it is flushed before the commit. On SQLite its ``BEGIN
        IMMEDIATE`` is sent with its first statement, in that statement's trip to the
        driver thread (nothing happens on the connection in between, so the write lock is
        taken at the same point of the work)."""
        gate = await self._enter_gate()
        released = False
        try:
            connection = await self._core_engine.connect()
            tx = CoreTransaction(connection, self.engine, dict(self._session_info))
            try:
                await connection.begin()
                try:
                    yield tx
                    await run_before_commit(tx)
                    await tx._flush()  # what the session holds, the hooks' writes too
                    await connection.commit()
                except BaseException:
                    undo = tx.info.pop(_ON_ROLLBACK_KEY, [])
                    tx.info.pop(_BEFORE_COMMIT_KEY, None)
                    discard_after_commit(tx)
                    try:
                        await connection.rollback()
                    finally:
                        _run_undo(undo)
                    raise
                tx.info.pop(_ON_ROLLBACK_KEY, None)
            finally:
                try:
                    await tx._close()
                finally:
                    await connection.close()
            gate.release()
            released = True
            await run_after_commit(tx)
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
