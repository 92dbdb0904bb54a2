"""Pydantic I/O of the knowledge base API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_QUERY_CHARS = 1000


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    filename: str
    kind: str
    size_bytes: int
    status: str
    failure_reason: str | None
    revision: int
    pages_total: int
    pages_done: int
    chunks_done: int
    question: str
    answer: str
    created_at: datetime
    updated_at: datetime


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    next_cursor: str | None


class FaqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=20_000)


class PassageOut(BaseModel):
    chunk_id: int
    document_id: int
    document_title: str
    heading_path: list[str]
    page: int | None
    text: str
    score: float


class SearchOut(BaseModel):
    query: str
    passages: list[PassageOut]
