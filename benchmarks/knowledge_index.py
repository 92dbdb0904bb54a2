"""The knowledge base's lexical index: build time, search latency and memory by size.

Synthetic Russian/English corpora (seeded): each chunk is in one language (half of the
chunks each) and has 150 content words (~1300 characters) drawn from a Zipf-Mandelbrot
distribution over a vocabulary of pseudo-words (Russian words in seven inflected forms
each), with real stop words between them at about the rate of natural text. A query is 3-8
words of a random chunk, some of them in another inflected form. Search time is the
product's path, ``analyze`` of the query plus ``LexicalIndex.search(..., k=10)``, one query
at a time.

    python benchmarks/knowledge_index.py [--sizes 1000,10000,100000] [--queries 1000]

Columns: chunks; analyze s (``analyze`` of every chunk, done once at upload in the product);
build s (``LexicalIndex.build`` from the analysed terms); load s (the same through ``add``
in batches of 5000, as the product's index loads stored terms at process start); search
p50/p99 ms; index MB (``LexicalIndex.memory_bytes``); add 100 ms (adding 100 more chunks to
the built index, which rebuilds the delta segment and the snapshot).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from frontline.knowledge.analysis import analyze  # noqa: E402
from frontline.knowledge.lexical import IndexDoc, LexicalIndex  # noqa: E402

RU_LETTERS = "аеиоуябвгджзклмнпрстфхцчшщ"
EN_LETTERS = "aeiouybcdfghklmnprstvwz"
RU_ENDINGS = ("", "а", "ы", "ов", "ами", "ой", "е")
RU_STOP = [
    "и",
    "в",
    "не",
    "на",
    "с",
    "что",
    "по",
    "как",
    "из",
    "за",
    "от",
    "для",
    "это",
    "к",
    "о",
    "до",
]
EN_STOP = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "by",
    "on",
    "are",
    "from",
]
LEMMAS = 40_000
LOAD_BATCH = 5000  # what frontline.knowledge.index loads per add at process start
TERMS = 150
STOP_RATE = 0.3


def pseudo_words(rng: np.random.Generator, letters: str, count: int) -> list[str]:
    """``count`` distinct words of 1-3 syllables made of the ``letters`` (vowels first):
    enough structure that words share character n-grams as real words do."""
    vowels, consonants = letters[:6], letters[6:]
    syllables = [c + v for c in consonants for v in vowels] + [
        c + v + c2 for c in consonants[:8] for v in vowels for c2 in consonants[-8:]
    ]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        parts = rng.integers(0, len(syllables), size=int(rng.integers(1, 4)))
        word = "".join(syllables[int(p)] for p in parts)
        if len(word) > 2 and word not in seen:
            seen.add(word)
            out.append(word)
    return out


class Corpus:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.lemmas = {
            "ru": pseudo_words(self.rng, RU_LETTERS, LEMMAS),
            "en": pseudo_words(self.rng, EN_LETTERS, LEMMAS),
        }
        ranks = np.arange(1, LEMMAS + 1, dtype=np.float64)
        weights = 1.0 / (ranks + 2.7)  # Zipf-Mandelbrot, s = 1
        self.cdf = np.cumsum(weights / weights.sum())

    def word(self, lang: str, lemma: int) -> str:
        base = self.lemmas[lang][lemma]
        if lang == "ru":
            return base + RU_ENDINGS[int(self.rng.integers(len(RU_ENDINGS)))]
        return base

    def chunk(self, lang: str) -> str:
        """``TERMS`` content words with stop words between them (~1000 characters)."""
        stop = RU_STOP if lang == "ru" else EN_STOP
        lemmas = np.searchsorted(self.cdf, self.rng.random(TERMS))
        stops = self.rng.random(TERMS) < STOP_RATE
        parts: list[str] = []
        for lemma, with_stop in zip(lemmas.tolist(), stops.tolist(), strict=True):
            if with_stop:
                parts.append(stop[int(self.rng.integers(len(stop)))])
            parts.append(self.word(lang, lemma))
        return " ".join(parts)

    def query(self, text: str, lang: str) -> str:
        words = [w for w in text.split() if w not in RU_STOP and w not in EN_STOP]
        size = int(self.rng.integers(3, 9))
        start = int(self.rng.integers(0, max(1, len(words) - size)))
        picked = words[start : start + size]
        if lang == "ru":  # another inflected form of some of the words
            picked = [
                w.rstrip("аыовмие") + RU_ENDINGS[int(self.rng.integers(len(RU_ENDINGS)))]
                if self.rng.random() < 0.5
                else w
                for w in picked
            ]
        return " ".join(picked)


def run(size: int, n_queries: int, seed: int) -> dict[str, float]:
    corpus = Corpus(seed)
    langs = ["ru" if i % 2 == 0 else "en" for i in range(size)]
    texts = [corpus.chunk(lang) for lang in langs]

    started = time.perf_counter()
    terms = [analyze(text) for text in texts]
    analyzed = time.perf_counter() - started

    started = time.perf_counter()
    index = LexicalIndex.build(IndexDoc(id=i, body=t) for i, t in enumerate(terms))
    built = time.perf_counter() - started

    started = time.perf_counter()
    batched = LexicalIndex()
    for start in range(0, size, LOAD_BATCH):
        batched.add(
            IndexDoc(id=i, body=terms[i]) for i in range(start, min(size, start + LOAD_BATCH))
        )
    loaded = time.perf_counter() - started
    del batched

    picks = corpus.rng.integers(0, size, size=n_queries)
    queries = [corpus.query(texts[int(i)], langs[int(i)]) for i in picks]
    for query in queries[:20]:  # warm-up
        index.search(analyze(query), 10)
    latencies: list[float] = []
    for query in queries:
        started = time.perf_counter()
        index.search(analyze(query), 10)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()

    extra = [IndexDoc(id=size + i, body=analyze(corpus.chunk("ru"))) for i in range(100)]
    started = time.perf_counter()
    index.add(extra)
    added = time.perf_counter() - started

    return {
        "chunks": size,
        "terms_per_chunk": sum(len(t) for t in terms) / size,
        "analyze_s": analyzed,
        "build_s": built,
        "load_s": loaded,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "index_mb": index.memory_bytes() / 1e6,
        "add100_ms": added * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    header = (
        f"{'chunks':>8} {'terms/chunk':>11} {'analyze s':>9} {'build s':>8} {'load s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'index MB':>9} {'add 100 ms':>10}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        row = run(size, args.queries, args.seed)
        print(
            f"{row['chunks']:>8.0f} {row['terms_per_chunk']:>11.0f} {row['analyze_s']:>9.2f} "
            f"{row['build_s']:>8.2f} {row['load_s']:>7.2f} {row['p50_ms']:>7.2f} "
            f"{row['p99_ms']:>7.2f} {row['index_mb']:>9.1f} {row['add100_ms']:>10.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
