"""The embeddings tests' providers: one :class:`Case` per remote kind (its fake server path,
model, config and batch size), the price table, the texts and the request builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from frontline.ai.base import (
    Embedder,
    EmbeddingRequest,
    ModelPrice,
    PriceTable,
    ProviderKind,
)
from frontline.ai.providers import gigachat, openai_compat
from frontline.ai.providers.registry import (
    build_embedder,
)
from tests.ai.fakes import (
    GIGA_AUTH_PATH,
    GIGA_EMBED_PATH,
    OPENAI_EMBED_PATH,
    YANDEX_EMBED_PATH,
    FakeLLMServer,
)

PRICES = PriceTable(
    models={
        "text-embedding-3-small": ModelPrice(input_per_1k=0.02, output_per_1k=0.0),
        "openai/text-embedding-3-small": ModelPrice(input_per_1k=0.02, output_per_1k=0.0),
        "nomic-embed-text": ModelPrice(input_per_1k=0.001, output_per_1k=0.0),
        "Embeddings": ModelPrice(input_per_1k=0.04, output_per_1k=0.0),
        "text-search": ModelPrice(input_per_1k=0.01, output_per_1k=0.0),
    }
)
# more than two batches of 64, the last one short
TEXTS = tuple(f"passage {index}: room {index % 7} has a sea view" for index in range(130))


def texts_request(
    model: str,
    texts: tuple[str, ...] = ("Do you have rooms?",),
    *,
    deadline: float = 5.0,
    purpose: Any = "document",
) -> EmbeddingRequest:
    return EmbeddingRequest(texts=texts, model=model, deadline_seconds=deadline, purpose=purpose)


@dataclass(frozen=True)
class Case:
    kind: ProviderKind
    path: str
    model: str
    config: Callable[[FakeLLMServer], dict[str, Any]]
    batch: int  # texts per request

    def build(self, fake: FakeLLMServer, **overrides: Any) -> Embedder:
        return build_embedder(self.kind, self.config(fake) | overrides, PRICES)

    def __str__(self) -> str:
        return self.kind.value


OPENAI = Case(
    ProviderKind.OPENAI,
    OPENAI_EMBED_PATH,
    "text-embedding-3-small",
    lambda f: {"api_key": "sk-test-123", "base_url": f"{f.base}/openai/v1"},
    openai_compat.EMBEDDING_BATCH,
)
OPENROUTER = Case(
    ProviderKind.OPENROUTER,
    OPENAI_EMBED_PATH,
    "openai/text-embedding-3-small",
    lambda f: {
        "api_key": "sk-or-v1-test",
        "base_url": f"{f.base}/openai/v1",
        "http_referer": "https://frontline.example",
        "app_title": "Frontline",
    },
    openai_compat.EMBEDDING_BATCH,
)
SELF_HOSTED = Case(
    ProviderKind.OPENAI_COMPATIBLE,
    OPENAI_EMBED_PATH,
    "nomic-embed-text",
    lambda f: {"base_url": f"{f.base}/openai/v1"},
    openai_compat.EMBEDDING_BATCH,
)
GIGACHAT = Case(
    ProviderKind.GIGACHAT,
    GIGA_EMBED_PATH,
    "Embeddings",
    lambda f: {
        "authorization_key": "Z2lnYS1jbGllbnQ6c2VjcmV0",
        "auth_url": f"{f.base}{GIGA_AUTH_PATH}",
        "base_url": f"{f.base}/gigachat/api/v1",
    },
    gigachat.EMBEDDING_BATCH,
)
YANDEX = Case(
    ProviderKind.YANDEXGPT,
    YANDEX_EMBED_PATH,
    "text-search",
    lambda f: {
        "api_key": "AQVN-test-key",
        "folder_id": "b1gfolder42",
        "base_url": f"{f.base}/yandex/foundationModels/v1",
    },
    1,
)
ALL = [OPENAI, OPENROUTER, SELF_HOSTED, GIGACHAT, YANDEX]
