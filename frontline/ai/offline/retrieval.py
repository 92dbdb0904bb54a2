"""A small, deterministic retrieval component over knowledge passages.

Each passage is split into units (its title and each line or sentence of its text: FAQ
entries are often a list of ways to ask the same question). A query is compared with every
unit by two TF-IDF cosines - one over word stems and stem bigrams, one over character
n-grams inside words (robust to typos and to inflections the stemmer misses) - and with each
whole passage by BM25. A passage's score blends its best unit, the mean of its two best units
and its normalised BM25 score. The blend is a number in [0, 1] that the engine reads as a
confidence, together with the margin over the runner-up passage.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from frontline.ai.offline.text import content_stems, is_stop_word, normalize, stem, words


class Passage(BaseModel):
    """One knowledge entry. ``answer`` (when set) is what a confident match replies with;
    otherwise the best-matching unit of ``text`` is quoted."""

    id: str = Field(min_length=1)
    title: str = ""
    text: str = ""
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class ScoringWeights:
    """How the features are blended (tuned on the CLINC150 development data, see
    ``frontline.ai.offline.evaluate``)."""

    word_max: float = 0.25
    word_top2: float = 0.15
    char_max: float = 0.25
    char_top2: float = 0.10
    bm25: float = 0.40
    char_ngram_min: int = 3
    char_ngram_max: int = 5
    bigram_weight: float = 0.0
    stop_word_weight: float = 1.0
    bm25_k1: float = 2.0
    bm25_b: float = 0.75


@dataclass(frozen=True, slots=True)
class Match:
    passage: Passage
    score: float
    best_unit: str


# a message with at most this many content words is read as a follow-up of the previous one
FOLLOW_UP_WORDS = 3
_LATIN_WORD = re.compile(r"^[a-z]{3,}$")


def chunk_passage(
    chunk_id: int | str,
    title: str,
    heading_path: Sequence[str],
    text: str,
    answer: str | None = None,
) -> Passage:
    """A knowledge chunk as the engine's passage: its id, the document title and heading
    path joined with ``" > "`` (repeats dropped), its text, and an FAQ entry's answer."""
    joined = " > ".join(dict.fromkeys(part for part in (title, *heading_path) if part))
    return Passage(id=str(chunk_id), title=joined, text=text, answer=answer or None)


def follow_up(text: str, earlier: Sequence[str] = ()) -> str:
    """The customer's message, with their previous one when it is a short follow-up: what
    they ask in their own words (the semantic re-rank embeds this, not the lexical
    expansion of :func:`search_query`)."""
    if earlier and len(content_stems(text)) <= FOLLOW_UP_WORDS:
        return f"{text} {earlier[-1]}"
    return text


def search_query(text: str, earlier: Sequence[str] = ()) -> str:
    """What to search the knowledge base with for the customer's message ``text``
    (``earlier``: their previous messages, oldest first): a short message is a follow-up
    ("and how much is it?") and is searched together with the previous message; words in
    Latin letters are also searched in their Cyrillic spelling (Russian typed in
    transliteration: "altai tsena"); what the message asks about (``lexicon.concepts``)
    adds its synonyms, so "аванс" finds a passage that says "предоплата"."""
    from frontline.ai.offline.lexicon import concepts, synonyms, to_cyrillic

    query = follow_up(text, earlier)
    tokens = words(query)
    latin = [w for w in tokens if _LATIN_WORD.match(w)]
    extra = [to_cyrillic(w) for w in latin] if len(latin) < 40 else []
    named = concepts([stem(w) for w in tokens + extra])
    expansion = synonyms(
        sorted(named), cyrillic=len(latin) < len(tokens) or bool(extra), latin=bool(latin)
    )
    # the customer's own words count twice against the synonyms of what they ask about
    return " ".join([query, query, *extra, *expansion])


SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")

Vector = dict[str, float]


def units(passage: Passage) -> list[str]:
    """The matching units of a passage: its title, then each line or sentence of its text."""
    units = [u.strip() for u in SENTENCE_SPLIT.split(passage.text) if u.strip()]
    if passage.title.strip():
        units.insert(0, passage.title.strip())
    return units or [passage.id]


class KnowledgeIndex:
    """An immutable index over ``passages``; ``search`` is a pure function of the query."""

    def __init__(self, passages: Sequence[Passage], weights: ScoringWeights | None = None) -> None:
        self.weights = weights or ScoringWeights()
        self.passages: tuple[Passage, ...] = tuple(passages)
        self._unit_text: list[str] = []
        self._unit_passage: list[int] = []
        word_tf: list[Vector] = []
        char_tf: list[Vector] = []
        for index, passage in enumerate(self.passages):
            for unit in units(passage):
                self._unit_text.append(unit)
                self._unit_passage.append(index)
                word_tf.append(self._word_features(unit))
                char_tf.append(self._char_features(unit))
        self._word_idf = _idf(word_tf)
        self._char_idf = _idf(char_tf)
        self._word_postings = _postings(word_tf, self._word_idf)
        self._char_postings = _postings(char_tf, self._char_idf)
        # BM25 over whole passages (all their units together).
        passage_tf: list[Vector] = [defaultdict(float) for _ in self.passages]
        for unit_index, tf in enumerate(word_tf):
            bag = passage_tf[self._unit_passage[unit_index]]
            for feature, count in tf.items():
                bag[feature] += count
        lengths = [sum(bag.values()) for bag in passage_tf]
        average = (sum(lengths) / len(lengths)) if lengths else 1.0
        k1, b = self.weights.bm25_k1, self.weights.bm25_b
        n = len(passage_tf)
        df: dict[str, int] = defaultdict(int)
        for bag in passage_tf:
            for feature in bag:
                df[feature] += 1
        self._bm25_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for p, counts in enumerate(passage_tf):
            norm = k1 * (1 - b + b * lengths[p] / average)
            for feature, count in counts.items():
                idf = math.log(1 + (n - df[feature] + 0.5) / (df[feature] + 0.5))
                self._bm25_postings[feature].append((p, idf * count * (k1 + 1) / (count + norm)))

    # features -------------------------------------------------------------------------

    def _word_features(self, text: str) -> Vector:
        tokens = words(text)
        features: Vector = defaultdict(float)
        stems = [stem(t) for t in tokens]
        stop = [is_stop_word(t) for t in tokens]
        for s, is_stop in zip(stems, stop, strict=True):
            features[s] += self.weights.stop_word_weight if is_stop else 1.0
        content = [s for s, is_stop in zip(stems, stop, strict=True) if not is_stop]
        for left, right in itertools.pairwise(content):
            features[f"{left}_{right}"] += self.weights.bigram_weight
        return dict(features)

    def _char_features(self, text: str) -> Vector:
        features: Vector = defaultdict(float)
        low, high = self.weights.char_ngram_min, self.weights.char_ngram_max
        for word in normalize(text).split():
            token = f" {''.join(ch for ch in word if ch.isalnum())} "
            if len(token) <= 2:
                continue
            for n in range(low, high + 1):
                for i in range(len(token) - n + 1):
                    features[token[i : i + n]] += 1.0
        return dict(features)

    def known_share(self, query: str) -> float:
        """The share of the content words of ``query`` whose stem occurs in the passages
        (1.0 for a query with none)."""
        found = content_stems(query)
        if not found:
            return 1.0
        return sum(s in self._word_idf for s in found) / len(found)

    # search ---------------------------------------------------------------------------

    def search(self, query: str, limit: int = 3) -> list[Match]:
        """The best ``limit`` passages for ``query``, best first; ties break by passage
        order, so the result never depends on anything but the inputs."""
        if not self.passages:
            return []
        word_scores = _cosines(self._word_features(query), self._word_idf, self._word_postings)
        char_scores = _cosines(self._char_features(query), self._char_idf, self._char_postings)
        w = self.weights
        per_passage_word: dict[int, list[float]] = defaultdict(list)
        per_passage_char: dict[int, list[float]] = defaultdict(list)
        best_unit: dict[int, tuple[float, int]] = {}
        for unit in set(word_scores) | set(char_scores):
            passage = self._unit_passage[unit]
            ws, cs = word_scores.get(unit, 0.0), char_scores.get(unit, 0.0)
            per_passage_word[passage].append(ws)
            per_passage_char[passage].append(cs)
            unit_score = w.word_max * ws + w.char_max * cs
            current = best_unit.get(passage)
            if current is None or unit_score > current[0]:
                best_unit[passage] = (unit_score, unit)
        bm25 = self._bm25(query)
        top_bm25 = max(bm25.values(), default=0.0)
        scored: list[tuple[float, int]] = []
        for passage in per_passage_word:
            word_sorted = sorted(per_passage_word[passage], reverse=True)
            char_sorted = sorted(per_passage_char[passage], reverse=True)
            score = (
                w.word_max * word_sorted[0]
                + w.word_top2 * (sum(word_sorted[:2]) / 2)
                + w.char_max * char_sorted[0]
                + w.char_top2 * (sum(char_sorted[:2]) / 2)
                + w.bm25 * (bm25.get(passage, 0.0) / top_bm25 if top_bm25 else 0.0)
            )
            scored.append((score, passage))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [
            Match(
                passage=self.passages[p],
                score=round(score, 6),
                best_unit=self._unit_text[best_unit[p][1]],
            )
            for score, p in scored[:limit]
        ]

    def _bm25(self, query: str) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for feature in self._word_features(query):
            for passage, weight in self._bm25_postings.get(feature, ()):
                scores[passage] += weight
        return scores


def _idf(documents: Iterable[Vector]) -> dict[str, float]:
    docs = list(documents)
    df: dict[str, int] = defaultdict(int)
    for doc in docs:
        for feature in doc:
            df[feature] += 1
    n = len(docs)
    return {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items()}


def _weigh(tf: Vector, idf: dict[str, float], unknown_idf: float | None = None) -> Vector:
    """Sublinear TF times IDF, L2-normalised. Features the index has never seen count in the
    query's norm (at ``unknown_idf``) so that a query about something else scores low."""
    vector: Vector = {}
    for f, c in tf.items():
        weight = idf.get(f, unknown_idf)
        if weight is not None:
            vector[f] = ((1.0 + math.log(c)) if c >= 1 else c) * weight
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {f: v / norm for f, v in vector.items()} if norm else {}


def _postings(tfs: Sequence[Vector], idf: dict[str, float]) -> dict[str, list[tuple[int, float]]]:
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for unit, tf in enumerate(tfs):
        for feature, weight in _weigh(tf, idf).items():
            postings[feature].append((unit, weight))
    return dict(postings)


def _cosines(
    query_tf: Vector, idf: dict[str, float], postings: dict[str, list[tuple[int, float]]]
) -> dict[int, float]:
    scores: dict[int, float] = defaultdict(float)
    unknown = max(idf.values(), default=1.0)
    for feature, q in _weigh(query_tf, idf, unknown).items():
        for unit, weight in postings.get(feature, ()):
            scores[unit] += q * weight
    return scores
