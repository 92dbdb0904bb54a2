"""Vectors of the tenant's own embedding model (dense search), as chunks store them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from frontline.ai.base import EmbeddingRequest

if TYPE_CHECKING:
    from frontline.knowledge.service import EmbeddingModel

EMBED_BATCH = 64


async def embed_texts(embedding: EmbeddingModel, texts: Sequence[str]) -> list[bytes]:
    """float32 vectors (normalised, as bytes) for ``texts``, in batches."""
    out: list[bytes] = []
    for start in range(0, len(texts), EMBED_BATCH):
        batch = tuple(texts[start : start + EMBED_BATCH])
        result = await embedding.embedder.embed(
            EmbeddingRequest(texts=batch, model=embedding.model, deadline_seconds=120.0)
        )
        out.extend(vector_bytes(v) for v in result.vectors)
    return out


def vector_bytes(vector: Sequence[float]) -> bytes:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return (array / norm if norm > 0 else array).tobytes()
