"""The baseline: an endpoint of the same framework and server doing one INSERT.

Same FastAPI, same uvicorn, same engine settings as Frontline (``frontline.kit.db``), so the
ratio measures what Frontline's inbound pipeline costs on top of a single write.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text

from frontline.kit.db import Database

URL = os.environ["BENCH_DATABASE_URL"]


class Body(BaseModel):
    external_id: str
    contact: dict[str, str]
    text: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    db = Database(URL)
    async with db.transaction() as s:
        await s.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_bare ("
                + ("id INTEGER PRIMARY KEY" if db.is_sqlite else "id BIGSERIAL PRIMARY KEY")
                + ", external_id VARCHAR(500), body TEXT)"
            )
        )
    app.state.db = db
    # the same garbage-collector tuning as `frontline serve`, so only the work differs
    from frontline.cli import _tune_gc

    _tune_gc()
    yield
    await db.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/bare", status_code=202)
async def bare(body: Body) -> dict[str, bool]:
    async with app.state.db.transaction() as s:
        await s.execute(
            text("INSERT INTO bench_bare (external_id, body) VALUES (:e, :b)"),
            {"e": body.external_id, "b": body.text},
        )
    return {"ok": True}
