"""Typed custom contact attributes.

Each key has one type for the whole tenant (``text``, ``number``, ``date``, ``boolean``),
declared by an admin or fixed by the first value ever set for it. A value of another type,
an unknown-looking key or an oversize value is refused with 422 naming the field
(``attributes.<key>``). ``null`` removes the attribute from the contact."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from frontline.errors import Unprocessable

KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_TEXT_CHARS = 500
MAX_ATTRIBUTES = 50


class AttributeType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _field(key: str, prefix: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def infer(value: Any) -> AttributeType:
    """The type a first value fixes for its key."""
    if isinstance(value, bool):
        return AttributeType.BOOLEAN
    if isinstance(value, (int, float)):
        return AttributeType.NUMBER
    if isinstance(value, str) and _DATE.match(value):
        try:
            date.fromisoformat(value)
            return AttributeType.DATE
        except ValueError:
            pass
    return AttributeType.TEXT


def check_value(key: str, kind: AttributeType, value: Any, prefix: str = "attributes") -> Any:
    """``value`` as stored for a ``kind`` attribute (numbers as numbers, dates as
    ``YYYY-MM-DD``), or 422 naming the field."""
    name = _field(key, prefix)
    if kind is AttributeType.BOOLEAN:
        if not isinstance(value, bool):
            raise Unprocessable(f"{name}: expected a boolean (true or false)")
        return value
    if kind is AttributeType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Unprocessable(f"{name}: expected a number")
        if not math.isfinite(value):
            raise Unprocessable(f"{name}: expected a finite number")
        return value
    if kind is AttributeType.DATE:
        if not isinstance(value, str) or not _DATE.match(value):
            raise Unprocessable(f"{name}: expected a date (YYYY-MM-DD)")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise Unprocessable(f"{name}: not a calendar date: {value}") from None
        return value
    if not isinstance(value, str):
        raise Unprocessable(f"{name}: expected text")
    if len(value) > MAX_TEXT_CHARS:
        raise Unprocessable(f"{name}: at most {MAX_TEXT_CHARS} characters")
    return value


def validate(
    values: Mapping[str, Any],
    types: Mapping[str, AttributeType],
    current: Mapping[str, Any],
    prefix: str = "attributes",
) -> tuple[dict[str, Any], dict[str, AttributeType]]:
    """The contact's attributes after applying ``values`` to ``current`` with the tenant's
    ``types``, and the new keys' inferred types (to declare)."""
    merged = dict(current)
    declared: dict[str, AttributeType] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise Unprocessable(
                f"{_field(str(key)[:60], prefix)}: a key is 1-50 characters a-z, 0-9 and _, "
                "starting with a letter"
            )
        if value is None:
            merged.pop(key, None)
            continue
        kind = types.get(key) or declared.get(key)
        if kind is None:
            kind = declared[key] = infer(value)
        merged[key] = check_value(key, kind, value, prefix)
    if len(merged) > MAX_ATTRIBUTES:
        raise Unprocessable(f"{prefix}: a contact has at most {MAX_ATTRIBUTES} attributes")
    return merged, declared
