"""SQLite through aiosqlite, one trip to its thread per statement.

aiosqlite runs every call on the connection's own thread, and SQLAlchemy's adapter makes
four calls per statement (a cursor, ``execute``, ``fetchall``, ``close``): four hand-overs
to that thread and back to the event loop, each a wake-up on both sides. This cursor does
the same work in one function on that thread and keeps the results (rows, description,
row count, last row id) on the event loop's side, which cuts the CPU a statement costs
(``benchmarks/ai_path.py`` on SQLite). The thread, the connection and the serialisation
(one statement at a time per connection) are aiosqlite's and SQLAlchemy's as before.

It leans on two things that are not public API, as SQLAlchemy's own aiosqlite adapter
does (its ``isolation_level`` setter queues work on aiosqlite's thread directly):
``aiosqlite.Connection._execute`` (run a function on the connection's thread) and
``_conn`` (the ``sqlite3`` connection, touched only on that thread).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Result = tuple[Any, list[Any], int, int | None]
# statements queued on an aiosqlite connection to run first in its next trip (see defer)
_DEFERRED = "_frontline_deferred"
_Queued = list[tuple[str, Sequence[Any]]]


def _run_deferred(connection: aiosqlite.Connection, queued: _Queued) -> None:
    for operation, parameters in queued:
        connection._conn.execute(operation, parameters).close()


def _run(
    connection: aiosqlite.Connection,
    operation: str,
    parameters: Any,
    many: bool,
    queued: _Queued | None = None,
) -> _Result:
    """On aiosqlite's thread: the deferred statements, then execute, fetch everything,
    close the cursor."""
    if queued:
        _run_deferred(connection, queued)
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one trip to aiosqlite's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # no aiosqlite cursor: each statement makes (and closes) its own on the thread
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows = collections.deque()
        self._soft_closed_memoized = EMPTY_DICT
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return  # nothing is open: the results are already here

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: str, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            queued = _take(self._connection)
            description, rows, rowcount, lastrowid = await self._connection._execute(
                _run, self._connection, operation, parameters, many, queued
            )
        self._description = description
        self._rows = collections.deque(rows)
        self._rowcount = rowcount
        self._lastrowid = lastrowid

    def nextset(self) -> None:
        return None  # DBAPI: no further result set (SQLite has one per statement)

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


def _take(connection: Any) -> _Queued | None:
    queued: _Queued | None = getattr(connection, _DEFERRED, None)
    if queued:
        setattr(connection, _DEFERRED, None)
    return queued


def _commit(connection: aiosqlite.Connection, queued: _Queued) -> None:
    """The deferred statements, then COMMIT; if one fails, ROLLBACK here: SQLAlchemy takes
    a failed commit for the end of the transaction and rolls nothing back (nor does the
    pool, see ``pool_reset_on_return``), so the failed work must not stay open on the
    connection for its next user."""
    try:
        _run_deferred(connection, queued)
    except BaseException:
        connection._conn.rollback()
        raise
    connection._conn.commit()


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    def commit(self) -> None:
        queued = _take(self._connection)
        if not queued:
            super().commit()
            return
        try:  # the deferred statements and the commit: one trip
            await_(self._connection._execute(_commit, self._connection, queued))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        _take(self._connection)  # never run
        super().rollback()

    def close(self) -> None:
        _take(self._connection)
        super().close()


class Deferrable:
    """A Core statement without results compiled once for :func:`defer` (SQL text and the
    bind processors of its parameters, in their positional order) - what SQLAlchemy
    would do for it on each execution, done once."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            raise ValueError("SQLite's statements take positional parameters")
        self.sql = str(compiled)
        # (name, bind processor, the value the statement itself binds, if any)
        self._order = [
            (
                name,
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                compiled.binds[name].effective_value,
            )
            for name in compiled.positiontup
        ]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, process, own in self._order:
            value = values.get(name, own)
            out.append(process(value) if process else value)
        return tuple(out)


def defer(dbapi_connection: Any, statement: Deferrable, values: Mapping[str, Any]) -> bool:
    """Queue ``statement`` to run on aiosqlite's thread just before the connection's next
    statement or commit, in that statement's trip (one hand-over to the thread and back
    less); dropped on rollback. An error it raises is raised by that next statement or
    commit (the transaction then rolls back, as it would have). False when the connection
    is not one of :class:`OneTripDbapi`'s (the caller executes it itself)."""
    return defer_sql(dbapi_connection, statement.sql, statement.parameters(values))


def defer_sql(dbapi_connection: Any, sql: str, parameters: Sequence[Any] = ()) -> bool:
    """:func:`defer` for SQL text (``BEGIN IMMEDIATE``, say)."""
    if not isinstance(dbapi_connection, _Connection):
        return False
    connection = dbapi_connection._connection
    queued: _Queued | None = getattr(connection, _DEFERRED, None)
    if queued is None:
        queued = []
        setattr(connection, _DEFERRED, queued)
    queued.append((sql, parameters))
    return True


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter whose connections make :class:`OneTripCursor`
    cursors (server-side cursors stay aiosqlite's own). Pass an instance as the engine's
    ``module``."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        # the same object with one class attribute changed (``_cursor_cls``): the
        # subclass adds no state, so the object's layout is the same
        connection.__class__ = _Connection
        return connection
