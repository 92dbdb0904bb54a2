"""The in-process lexical index of a knowledge base: BM25 over stems and stem prefixes in
three fields, then a rerank of the best candidates by character n-grams and word proximity.

A chunk is indexed as an ``IndexDoc``: its id and the index terms (``analysis.analyze``:
words, not stems - the index stems them itself and also needs the words) of three fields:

- ``body``: the chunk's own text (a plain ``(id, terms)`` pair is a chunk with a body only);
- ``heading``: the document title and the heading path of the chunk;
- ``context``: the text around the chunk (the section or paragraph it comes from), weaker
  evidence that the chunk is about the query's topic.

Scoring (all weights in ``LexicalConfig``; tuned on XQuAD-R, see ``evaluate``):

1. Candidates: per field, BM25 over Snowball stems plus BM25 over stem prefixes (the first
   ``prefix_len`` characters, so ``финансирование``/``финансировал`` and other derivations
   the stemmer keeps apart still meet), summed with per-field weights. Each field has its own
   document lengths; IDF is per field.
2. Rerank of the best ``rerank_depth`` candidates by two features of the body:
   BM25 over the character n-grams of its words (inflections, transliterations and compounds
   the stemmer misses: ``Пэнтерс``/``Пантерс``, ``радиоволны``/``радиопередача``) and
   proximity (pairs of adjacent query words that occur within ``proximity_window`` words of
   each other, weighted by their IDF).

Data layout: postings are CSR arrays per segment (``offsets`` by term id, ``docs`` int32,
``tfs`` uint8 - BM25 saturates long before 255), scores accumulate into one dense float32
array per query and the candidates are cut with ``argpartition``. The body's words are kept
as a forward store of word ids (int32) for the rerank and for exact statistics on merges.

Updates: ``add`` indexes the new documents as a segment and merges it into the delta
segment, and the delta into the main one once it holds more than ``merge_ratio`` of the main
segment's documents (and at least ``merge_min``); ``remove`` only masks documents. A
document added again under its id replaces the old version.
Like Lucene, collection statistics (document count, document frequencies, average lengths)
include removed documents until the next merge, which drops them; a merge also runs when more
than ``compact_ratio`` of the documents are removed. Every change builds a new immutable
snapshot and swaps it in, so searches running in other threads always see a consistent index;
writers are serialised by a lock.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from frontline.knowledge.analysis import stem
from frontline.knowledge.lexical_store import (
    _BODY,
    F32,
    FIELDS,
    I32,
    I64,
    Bools,
    FieldWeights,
    IndexDoc,
    LexicalConfig,
    _build_segment,
    _idf,
    _lexicon,
    _merge_segments,
    _Segment,
    _Snapshot,
    _snapshot,
    _Vocabulary,
    char_ngrams,
)

__all__ = ["FIELDS", "FieldWeights", "IndexDoc", "LexicalConfig", "LexicalIndex"]


class _Query(NamedTuple):
    stems: Counter[int]  # stem id -> occurrences in the query
    prefixes: Counter[int]
    sequence: list[int]  # stem ids of the query's words in order (-1: not in the index)
    grams: Counter[int]  # n-gram id -> occurrences


class LexicalIndex:
    """An in-memory lexical index of chunks keyed by integer ids (see the module doc).

    ``search`` may run concurrently with ``add``/``remove`` from other threads."""

    def __init__(self, config: LexicalConfig | None = None) -> None:
        self.config = config or LexicalConfig()
        self._vocab = _Vocabulary(self.config.prefix_len, self.config.ngram)
        self._lock = threading.Lock()
        self._positions: dict[int, int] = {}
        empty_lexicon = _lexicon(self._vocab, (), 0)
        self._snap = _snapshot((), np.zeros(0, dtype=np.bool_), self.config, empty_lexicon)

    @classmethod
    def build(
        cls,
        docs: Iterable[IndexDoc | tuple[int, Sequence[str]]],
        config: LexicalConfig | None = None,
    ) -> LexicalIndex:
        """A new index of ``docs``: an ``IndexDoc`` or ``(id, body terms)`` each."""
        index = cls(config)
        index.add(docs)
        return index

    def add(self, docs: Iterable[IndexDoc | tuple[int, Sequence[str]]]) -> None:
        """Index ``docs`` (an ``IndexDoc`` or ``(id, body terms)`` each, terms from
        ``analysis.analyze``); a document whose id is already indexed replaces the old one."""
        batch: dict[int, IndexDoc] = {}
        for doc in docs:
            item = doc if isinstance(doc, IndexDoc) else IndexDoc(id=doc[0], body=doc[1])
            if isinstance(item.body, str):
                raise TypeError("index terms are a sequence of strings, not one string")
            batch[item.id] = item  # the last version of an id wins
        if not batch:
            return
        with self._lock:
            snap = self._snap
            alive = snap.alive.copy()
            for doc_id in batch:
                position = self._positions.get(doc_id)
                if position is not None:
                    alive[position] = False
            new = _build_segment(list(batch.values()), self._vocab)
            segments = [*snap.segments, new]
            masks = [alive[b : b + s.n] for s, b in zip(snap.segments, snap.bases, strict=True)]
            masks.append(np.ones(new.n, dtype=np.bool_))
            segments, masks = self._merge_policy(segments, masks)
            self._install(tuple(segments), masks, vocab_changed=True)

    def remove(self, ids: Iterable[int]) -> int:
        """Stop returning the documents ``ids``; returns how many were indexed."""
        with self._lock:
            snap = self._snap
            positions = [p for i in ids if (p := self._positions.pop(i, None)) is not None]
            if not positions:
                return 0
            alive = snap.alive.copy()
            alive[positions] = False
            masks = [alive[b : b + s.n] for s, b in zip(snap.segments, snap.bases, strict=True)]
            dead = len(alive) - int(alive.sum())
            if dead > self.config.compact_ratio * len(alive):
                segments = [_merge_segments(snap.segments, masks, self._vocab)]
                self._install(tuple(segments), [np.ones(segments[0].n, np.bool_)], True)
            else:
                self._snap = _snapshot(snap.segments, alive, self.config, snap.lexicon)
            return len(positions)

    def _merge_policy(
        self, segments: list[_Segment], masks: list[Bools]
    ) -> tuple[list[_Segment], list[Bools]]:
        """At most two segments: the main one and a delta, merged into the main segment when
        it outgrows ``merge_ratio`` of it (or removals exceed ``compact_ratio``)."""
        if len(segments) > 2:
            delta = _merge_segments(segments[1:], masks[1:], self._vocab)
            segments = [segments[0], delta]
            masks = [masks[0], np.ones(delta.n, dtype=np.bool_)]
        if len(segments) == 2:
            main_live, delta_live = int(masks[0].sum()), int(masks[1].sum())
            total = sum(len(m) for m in masks)
            dead = total - main_live - delta_live
            if (
                delta_live > max(self.config.merge_min, self.config.merge_ratio * main_live)
                or main_live == 0
                or dead > self.config.compact_ratio * total
            ):
                merged = _merge_segments(segments, masks, self._vocab)
                segments, masks = [merged], [np.ones(merged.n, dtype=np.bool_)]
        return segments, masks

    def _install(
        self, segments: tuple[_Segment, ...], masks: Sequence[Bools], vocab_changed: bool
    ) -> None:
        old = self._snap
        alive = np.concatenate(list(masks) or [np.zeros(0, np.bool_)])
        n = int(sum(s.n for s in segments))
        lexicon = _lexicon(self._vocab, segments, n) if vocab_changed else old.lexicon
        snap = _snapshot(segments, alive, self.config, lexicon)
        # positions in an unchanged main segment stay; the rest are redone
        keep = segments[0].n if old.segments and segments[0] is old.segments[0] else 0
        positions = self._positions if keep else {}
        for doc_id in old.ids[keep:].tolist() if keep else ():
            if positions.get(doc_id, -1) >= keep:
                del positions[doc_id]
        live = np.flatnonzero(alive[keep:]) + keep
        positions.update(zip(snap.ids[live].tolist(), live.tolist(), strict=True))
        self._positions = positions
        self._snap = snap

    def __len__(self) -> int:
        return self._snap.live

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._positions

    def ids(self) -> list[int]:
        """The ids of the indexed documents (in index order)."""
        snap = self._snap
        return [int(i) for i in snap.ids[snap.alive]]

    def memory_bytes(self) -> int:
        """An estimate of the memory the index holds: its arrays, exactly, plus the Python
        dicts of the vocabulary and of the id positions, approximately."""
        with self._lock:  # the vocabulary's dicts must not grow while they are measured
            return self._memory_bytes()

    def _memory_bytes(self) -> int:
        snap = self._snap
        total = sum(s.nbytes() for s in snap.segments)
        total += snap.alive.nbytes + snap.ids.nbytes + snap.bases.nbytes
        total += sum(x.nbytes for x in snap.norms) + snap.gram_norms.nbytes
        total += snap.lexicon.nbytes() + self._vocab.nbytes()
        total += sys.getsizeof(self._positions) + 28 * 2 * len(self._positions)
        return total

    def search(self, query_terms: Sequence[str], k: int = 10) -> list[tuple[int, float]]:
        """The ``k`` best chunks for the query with ``query_terms`` (``analysis.analyze``)
        as ``(id, score)``, best first. Only chunks sharing at least one stem or stem prefix
        with the query are returned; scores compare within one query, not across queries."""
        if isinstance(query_terms, str):
            raise TypeError("query terms are a sequence of strings, not one string")
        snap = self._snap
        if k <= 0 or snap.live == 0:
            return []
        parsed = self._parse(query_terms, snap)
        if not parsed.stems and not parsed.prefixes:
            return []
        body_idf: dict[int, float] = {}  # filled by the first stage for the rerank
        scores = self._first_stage(parsed, snap, body_idf)
        if snap.live < snap.n:
            scores[~snap.alive] = 0.0
        candidates = np.flatnonzero(scores > 0)
        depth = max(k, self.config.rerank_depth)
        if len(candidates) > depth:
            best = np.argpartition(-scores[candidates], depth - 1)[:depth]
            candidates = candidates[best]
        final = scores[candidates].astype(np.float64)
        if self.config.rerank_depth > 0 and len(candidates):
            final += self._rerank(parsed, snap, body_idf, candidates)
        order = np.lexsort((candidates, -final))[:k]
        return [(int(snap.ids[candidates[i]]), float(final[i])) for i in order]

    def _parse(self, query_terms: Sequence[str], snap: _Snapshot) -> _Query:
        vocab = self._vocab
        stems: Counter[int] = Counter()
        prefixes: Counter[int] = Counter()
        grams: Counter[int] = Counter()
        sequence: list[int] = []
        for word in query_terms:
            root = stem(word)
            sid = vocab.stems.get(root, -1)
            sequence.append(sid)
            if sid >= 0:
                stems[sid] += 1
            pid = vocab.prefixes.get(root[: self.config.prefix_len])
            if pid is not None:
                prefixes[pid] += 1
            for gram in char_ngrams(word, self.config.ngram):
                gid = vocab.grams.get(gram)
                if gid is not None and gid < len(snap.lexicon.gram_idf):
                    grams[gid] += 1
        return _Query(stems=stems, prefixes=prefixes, sequence=sequence, grams=grams)

    def _first_stage(self, query: _Query, snap: _Snapshot, body_idf: dict[int, float]) -> F32:
        scores = np.zeros(snap.n, dtype=np.float32)
        n = snap.n
        for index, weights in enumerate(self.config.fields()):
            norms = snap.norms[index]
            k1p1 = weights.k1 + 1.0
            for prefix, terms, weight in (
                (False, query.stems, weights.weight),
                (True, query.prefixes, weights.prefix_weight),
            ):
                if weight == 0.0:
                    continue
                for term, count in terms.items():
                    df = snap.df(index, prefix, term)
                    if df == 0:
                        continue
                    idf = float(_idf(n, df))
                    if index == _BODY and not prefix:
                        body_idf[term] = idf
                    factor = np.float32(weight * idf * count * k1p1)
                    for segment, base in zip(snap.segments, snap.bases, strict=True):
                        f = segment.fields[index]
                        hit = (f.prefixes if prefix else f.stems).get(term)
                        if hit is None:
                            continue
                        docs = hit[0] + np.int32(base)
                        tf = hit[1].astype(np.float32)
                        scores[docs] += factor * tf / (tf + norms[docs])
        return scores

    def _rerank(
        self, query: _Query, snap: _Snapshot, body_idf: dict[int, float], candidates: I64
    ) -> npt.NDArray[np.float64]:
        """The n-gram and proximity features of the body of each candidate."""
        config = self.config
        n_cand = len(candidates)
        seg_of = np.searchsorted(snap.bases, candidates, side="right") - 1
        parts: list[I32] = []
        for position, seg_index in zip(candidates.tolist(), seg_of.tolist(), strict=True):
            segment = snap.segments[seg_index]
            local = position - int(snap.bases[seg_index])
            start, end = segment.fwd_offsets[local], segment.fwd_offsets[local + 1]
            parts.append(segment.fwd_words[start:end])
        lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=n_cand)
        word_ids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        doc_of_word = np.repeat(np.arange(n_cand, dtype=np.int64), lengths)
        extra = np.zeros(n_cand, dtype=np.float64)
        lexicon = snap.lexicon
        if config.ngram_weight and query.grams and len(word_ids):
            q_grams = np.fromiter(query.grams, dtype=np.int64, count=len(query.grams))
            q_counts = np.fromiter(query.grams.values(), dtype=np.float64, count=len(q_grams))
            n_q = len(q_grams)
            slot_of = np.full(len(lexicon.gram_idf), -1, dtype=np.int32)  # gram -> query slot
            slot_of[q_grams] = np.arange(n_q, dtype=np.int32)
            starts = lexicon.gram_offsets[word_ids]
            sizes = lexicon.gram_offsets[word_ids + 1] - starts
            total = int(sizes.sum())
            shift = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
            slots = slot_of[lexicon.gram_ids[shift + np.arange(total)]]
            match = slots >= 0
            gram_doc = np.repeat(doc_of_word, sizes)[match]
            tf = np.bincount(gram_doc * n_q + slots[match], minlength=n_cand * n_q).reshape(
                n_cand, n_q
            )
            norm = snap.gram_norms[candidates].astype(np.float64)[:, None]
            weight = q_counts * lexicon.gram_idf[q_grams].astype(np.float64)
            saturated = tf * (config.ngram_k1 + 1.0) / (tf + norm)
            extra += config.ngram_weight * (saturated @ weight)
        pairs = [
            (a, b)
            for a, b in zip(query.sequence, query.sequence[1:], strict=False)
            if a >= 0 and b >= 0 and a != b
        ]
        if config.proximity_weight and pairs and len(word_ids):
            window = config.proximity_window
            stems = lexicon.word_stem[word_ids]
            # positions with a gap wider than the window between documents
            coords = np.arange(len(stems), dtype=np.int64) + doc_of_word * (window + 1)
            for a, b in pairs:
                at_a = coords[stems == a]
                at_b = coords[stems == b]
                if not len(at_a) or not len(at_b):
                    continue
                nearest = np.searchsorted(at_b, at_a)
                after = at_b[np.minimum(nearest, len(at_b) - 1)] - at_a
                before = at_a - at_b[np.maximum(nearest - 1, 0)]
                close = (np.abs(after) <= window) | (np.abs(before) <= window)
                if not close.any():
                    continue
                docs = np.unique(doc_of_word[stems == a][close])
                bonus = body_idf.get(a, 0.0) + body_idf.get(b, 0.0)
                extra[docs] += config.proximity_weight * bonus
        return extra
