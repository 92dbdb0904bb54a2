"""Opaque cursor pagination (keyset, newest first)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from frontline.kit.time import as_utc

R = TypeVar("R")

# the cursor's format: unpadded URL-safe base64 of a small JSON object; clients pass back
# the ``next_cursor`` of the previous page and never build one themselves
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
CURSOR_DESCRIPTION = (
    "opaque: the next_cursor of the previous page (unpadded URL-safe base64); "
    "a cursor that does not decode is refused with 422"
)
CursorQuery = Annotated[
    str | None,
    Query(max_length=500, pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION),
]


class InvalidCursor(ValueError):
    pass


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("invalid cursor") from exc
    if not isinstance(data, dict):
        raise InvalidCursor("invalid cursor")
    return data


T = TypeVar("T")


NextCursor = Annotated[
    str | None,
    Field(
        pattern=CURSOR_PATTERN,
        description="pass as ?cursor= for the next page; null on the last page",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: NextCursor = None


def decode_time_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The ``(timestamp, id)`` a newest-first keyset cursor points after (None: first page);
    raises :class:`InvalidCursor`."""
    if not cursor:
        return None
    data = decode_cursor(cursor)
    try:
        return as_utc(datetime.fromisoformat(str(data["t"]))), int(data["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidCursor("invalid cursor") from exc


def time_page(
    rows: list[R], limit: int, stamp: Callable[[R], datetime], ident: Callable[[R], int]
) -> tuple[list[R], str | None]:
    """Cut ``limit + 1`` fetched rows to a page and the cursor of the next one (if any)."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, encode_cursor({"t": stamp(last).isoformat(), "id": ident(last)})
