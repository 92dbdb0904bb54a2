"""Pydantic I/O of the knowledge base API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from frontline.ai.base import ProviderKind

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
    failure_code: str | None = Field(
        default=None, description="why it failed: empty, no_text, corrupt, encrypted, ..."
    )
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


class EmbeddingIn(BaseModel):
    """The embedding model for dense search: a provider kind with embeddings
    (``openai_compatible``, ``gigachat``, ``yandexgpt``, ``local``), its model and config.
    ``api_key`` is write-only: given, stored encrypted; left out, kept; ``null``, removed."""

    model_config = ConfigDict(extra="forbid")

    kind: ProviderKind
    model: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    api_key: SecretStr | None = Field(default=None, max_length=4000)


class KnowledgeSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    embedding: EmbeddingIn | None


class EmbeddingOut(BaseModel):
    kind: str
    model: str
    config: dict[str, Any]
    has_api_key: bool


class KnowledgeSettingsOut(BaseModel):
    embedding: EmbeddingOut | None
    chunks_embedded: int
    chunks_total: int
