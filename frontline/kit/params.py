"""Shared request parameter types.

Database ids are 64-bit signed integers: an id in a URL outside ``1 .. 2**63 - 1`` cannot
name a row, so it is refused with 422 before any query (a larger Python int would overflow
the database driver instead of answering 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

BIGINT_MAX = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A numeric id (1 .. 2^63-1)")]
OptionalQueryId = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
