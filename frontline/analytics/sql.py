"""Dialect helpers for the analytics queries: the same expression on SQLite and PostgreSQL
for seconds between two timestamps, a day, an hour of the day and a weekday (all UTC)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float, Integer, cast, extract, func, literal_column
from sqlalchemy.sql.elements import ColumnElement


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(extract("epoch", later - earlier), Float)


def day(dialect: str, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day: ``YYYY-MM-DD`` text on SQLite, the day's midnight (a
    timestamp, cheaper than formatting each row) on PostgreSQL."""
    if dialect == "sqlite":
        return func.date(column)
    return func.date_trunc("day", func.timezone("UTC", column))


def hour(dialect: str, column: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return cast(func.strftime("%H", column), Integer)
    return cast(extract("hour", func.timezone("UTC", column)), Integer)


def weekday(dialect: str, column: Any) -> ColumnElement[Any]:
    """0 = Monday ... 6 = Sunday."""
    if dialect == "sqlite":
        return (cast(func.strftime("%w", column), Integer) + 6) % 7
    return cast(extract("isodow", func.timezone("UTC", column)), Integer) - 1


def day_weekday(dialect: str, column: Any) -> ColumnElement[Any]:
    """The weekday of a ``DATE`` column, 0 = Monday ... 6 = Sunday."""
    if dialect == "sqlite":
        return (cast(func.strftime("%w", column), Integer) + 6) % 7
    return cast(extract("isodow", column), Integer) - 1


def as_date(dialect: str, column: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.date(column)
    return cast(func.timezone("UTC", column), Date)


def one() -> ColumnElement[Any]:
    return literal_column("1")
