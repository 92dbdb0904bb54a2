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
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from frontline.knowledge.analysis import stem

__all__ = ["FIELDS", "FieldWeights", "IndexDoc", "LexicalConfig", "LexicalIndex"]

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Bools = npt.NDArray[np.bool_]

FIELDS: Final = ("body", "heading", "context")
_BODY: Final = 0
_TF_BITS: Final = 8
_TF_MAX: Final = 255  # term frequencies are stored in a byte; BM25 saturates long before


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """One chunk as the index sees it: its id and the index terms (``analysis.analyze``) of
    its three fields (see the module doc)."""

    id: int
    body: Sequence[str]
    heading: Sequence[str] = ()
    context: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class FieldWeights:
    """BM25 parameters of one field and the weights of its stem and stem-prefix scores."""

    weight: float
    prefix_weight: float
    k1: float = 0.9
    b: float = 0.4


@dataclass(frozen=True, slots=True)
class LexicalConfig:
    """Scoring and maintenance parameters. The defaults were tuned on the first half of the
    XQuAD-R articles (Russian and English together) and checked on the second half."""

    body: FieldWeights = FieldWeights(weight=1.0, prefix_weight=1.5)
    heading: FieldWeights = FieldWeights(weight=0.5, prefix_weight=0.5)
    context: FieldWeights = FieldWeights(weight=1.5, prefix_weight=2.0)
    prefix_len: int = 4
    ngram: int = 4
    ngram_weight: float = 0.6
    ngram_k1: float = 0.9
    ngram_b: float = 0.4
    proximity_weight: float = 0.6
    proximity_window: int = 3
    rerank_depth: int = 50
    merge_ratio: float = 0.1
    merge_min: int = 1000
    compact_ratio: float = 0.25

    def fields(self) -> tuple[FieldWeights, FieldWeights, FieldWeights]:
        return (self.body, self.heading, self.context)


class _Vocabulary:
    """Append-only maps shared by all segments: term (word) -> word id, word id -> stem id,
    stem id -> prefix id, word id -> its character n-gram ids.

    Only writers (under the index lock) add entries; readers look words up in the dicts,
    which is safe under the GIL, and use the numpy copies of the arrays in a snapshot."""

    def __init__(self, prefix_len: int, ngram: int) -> None:
        self.prefix_len = prefix_len
        self.ngram = ngram
        self.words: dict[str, int] = {}
        self.stems: dict[str, int] = {}
        self.prefixes: dict[str, int] = {}
        self.grams: dict[str, int] = {}
        self.word_stem = array("i")
        self.stem_prefix = array("i")
        self.gram_offsets = array("q", [0])
        self.gram_ids = array("i")

    def word_id(self, word: str) -> int:
        wid = self.words.get(word)
        if wid is None:
            wid = self._new_word(word)
        return wid

    def _new_word(self, word: str) -> int:
        root = stem(word)
        sid = self.stems.get(root)
        if sid is None:
            sid = len(self.stems)
            self.stems[root] = sid
            prefix = root[: self.prefix_len]
            pid = self.prefixes.get(prefix)
            if pid is None:
                pid = len(self.prefixes)
                self.prefixes[prefix] = pid
            self.stem_prefix.append(pid)
        wid = len(self.word_stem)
        self.word_stem.append(sid)
        grams = self.grams
        for gram in char_ngrams(word, self.ngram):
            gid = grams.get(gram)
            if gid is None:
                gid = len(grams)
                grams[gram] = gid
            self.gram_ids.append(gid)
        self.gram_offsets.append(len(self.gram_ids))
        self.words[word] = wid
        return wid

    def nbytes(self) -> int:
        total = 0
        for table in (self.words, self.stems, self.prefixes, self.grams):
            total += sys.getsizeof(table) + sum(sys.getsizeof(key) for key in table)
        for arr in (self.word_stem, self.stem_prefix, self.gram_offsets, self.gram_ids):
            total += arr.itemsize * len(arr)
        return total


def char_ngrams(word: str, n: int) -> list[str]:
    """The character ``n``-grams of `` word `` (padded with a space on each side, so a
    gram at the edge of a word differs from one inside it); a short word is one gram."""
    padded = f" {word} "
    if len(padded) <= n:
        return [padded]
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


@dataclass(frozen=True, slots=True)
class _Postings:
    """CSR postings: the documents of term ``t`` are ``docs[offsets[t]:offsets[t + 1]]``
    (ascending) with their term frequencies in ``tfs``. Terms created after this segment
    was built lie beyond ``offsets`` and have no postings here."""

    offsets: I64
    docs: I32
    tfs: U8

    def get(self, term: int) -> tuple[I32, U8] | None:
        if term + 1 >= len(self.offsets):
            return None
        start, end = int(self.offsets[term]), int(self.offsets[term + 1])
        if start == end:
            return None
        return self.docs[start:end], self.tfs[start:end]

    def df(self, term: int) -> int:
        if term + 1 >= len(self.offsets):
            return 0
        return int(self.offsets[term + 1] - self.offsets[term])

    def nbytes(self) -> int:
        return self.offsets.nbytes + self.docs.nbytes + self.tfs.nbytes


def _distinct_keys(keys: I64) -> I64:
    """The distinct ``keys``, ascending."""
    if len(keys) == 0:
        return keys
    ordered = np.sort(keys)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _count_pairs(terms: I64, docs: I64, tfs: I64, n_docs: int) -> tuple[I64, I64, I64]:
    """The distinct (term, doc) pairs of the triples, sorted by term then doc, with the sum
    of their ``tfs`` (each at most ``_TF_MAX``; the sums are clipped to it too).

    One sort of int64 keys ``(term << doc_bits | doc) << 8 | tf``: numpy sorts those fast,
    and the frequencies travel in the low byte instead of through an argsort and a gather."""
    if len(terms) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    doc_bits = max(1, (n_docs - 1).bit_length())
    keys = terms << doc_bits
    keys |= docs
    keys <<= _TF_BITS
    keys |= tfs
    keys.sort()
    grouped = keys >> _TF_BITS
    starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    sums = np.add.reduceat(keys & _TF_MAX, starts)
    grouped = grouped[starts]
    out_docs = grouped & ((1 << doc_bits) - 1)
    grouped >>= doc_bits
    return grouped, out_docs, np.minimum(sums, _TF_MAX)


def _postings(terms: I64, docs: I64, tfs: I64, n_terms: int) -> _Postings:
    """CSR postings from (term, doc, tf) triples sorted by term, then doc."""
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=offsets[1:])
    return _Postings(offsets=offsets, docs=docs.astype(np.int32), tfs=tfs.astype(np.uint8))


@dataclass(frozen=True, slots=True)
class _Field:
    stems: _Postings
    prefixes: _Postings
    lengths: F32  # indexed words per document

    def nbytes(self) -> int:
        return self.stems.nbytes() + self.prefixes.nbytes() + self.lengths.nbytes


@dataclass(frozen=True, slots=True)
class _Segment:
    ids: I64
    fields: tuple[_Field, _Field, _Field]
    fwd_offsets: I64  # body words of document i: fwd_words[fwd_offsets[i]:fwd_offsets[i+1]]
    fwd_words: I32
    gram_lengths: F32  # character n-grams in the body of each document
    word_df: I32  # documents whose body contains each word id (ids beyond: 0)

    @property
    def n(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        return (
            self.ids.nbytes
            + sum(f.nbytes() for f in self.fields)
            + self.fwd_offsets.nbytes
            + self.fwd_words.nbytes
            + self.gram_lengths.nbytes
            + self.word_df.nbytes
        )


def _pad(values: I32, size: int) -> I64:
    """``values`` as int64, padded with zeros to ``size``."""
    out = np.zeros(max(size, len(values)), dtype=np.int64)
    out[: len(values)] = values
    return out


def _field_words(docs: Sequence[IndexDoc], name: str, vocab: _Vocabulary) -> tuple[I64, I64]:
    """The word ids of field ``name`` of all ``docs``, concatenated, and the count per
    document. This loop is the one per-term cost of indexing (one dict lookup per term, done
    by ``itemgetter`` in C); new words take the slow path once."""
    words = vocab.words
    word_id = vocab.word_id
    flat = array("i")
    counts = array("q")
    for doc in docs:
        terms: Sequence[str] = getattr(doc, name)
        size = len(terms)
        counts.append(size)
        if size == 0:
            continue
        try:
            ids = itemgetter(*terms)(words) if size > 1 else (words[terms[0]],)
        except KeyError:
            ids = tuple(word_id(t) for t in terms)
        flat.extend(ids)
    return (
        np.frombuffer(flat, dtype=np.int32).astype(np.int64),
        np.frombuffer(counts, dtype=np.int64).copy(),
    )


def _build_segment(docs: Sequence[IndexDoc], vocab: _Vocabulary) -> _Segment:
    """Index ``docs`` into a new segment: word ids per field (see ``_field_words``), then,
    vectorised, word -> stem -> prefix postings, each from the level below."""
    n = len(docs)
    fields: list[_Field] = []
    fwd_offsets = np.zeros(n + 1, dtype=np.int64)
    fwd_words = np.zeros(0, dtype=np.int32)
    word_df = np.zeros(0, dtype=np.int32)
    for index, name in enumerate(FIELDS):
        all_words, counts = _field_words(docs, name, vocab)
        all_docs = np.repeat(np.arange(n, dtype=np.int64), counts)
        n_words = len(vocab.word_stem)
        if index == _BODY:
            fwd_words = all_words.astype(np.int32)
            np.cumsum(counts, out=fwd_offsets[1:])
        words, w_docs, w_tfs = _count_pairs(all_words, all_docs, np.ones_like(all_words), n)
        if index == _BODY:
            word_df = np.bincount(words, minlength=n_words).astype(np.int32)
        word_stem = np.frombuffer(vocab.word_stem, dtype=np.int32).astype(np.int64)
        stem_prefix = np.frombuffer(vocab.stem_prefix, dtype=np.int32).astype(np.int64)
        s_terms, s_docs, s_tfs = _count_pairs(word_stem[words], w_docs, w_tfs, n)
        p_terms, p_docs, p_tfs = _count_pairs(stem_prefix[s_terms], s_docs, s_tfs, n)
        fields.append(
            _Field(
                stems=_postings(s_terms, s_docs, s_tfs, len(vocab.stems)),
                prefixes=_postings(p_terms, p_docs, p_tfs, len(vocab.prefixes)),
                lengths=counts.astype(np.float32),
            )
        )
    gram_offsets = np.frombuffer(vocab.gram_offsets, dtype=np.int64)
    per_word = np.diff(gram_offsets)[fwd_words]
    body_docs = np.repeat(np.arange(n), np.diff(fwd_offsets))
    gram_lengths = np.bincount(body_docs, weights=per_word, minlength=n).astype(np.float32)
    return _Segment(
        ids=np.fromiter((d.id for d in docs), dtype=np.int64, count=n),
        fields=(fields[0], fields[1], fields[2]),
        fwd_offsets=fwd_offsets,
        fwd_words=fwd_words,
        gram_lengths=gram_lengths,
        word_df=word_df,
    )


def _merge_postings(parts: Sequence[tuple[_Postings, I64, Bools]], n_terms: int) -> _Postings:
    """Concatenate the postings of several segments, keeping live documents at their new
    positions (``new_pos`` per old position). Each part is sorted by term, so the stable
    sort below only merges sorted runs."""
    terms_l: list[I64] = []
    docs_l: list[I64] = []
    tfs_l: list[U8] = []
    for postings, new_pos, alive in parts:
        counts = np.diff(postings.offsets)
        terms = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        keep = alive[postings.docs]
        terms_l.append(terms[keep])
        docs_l.append(new_pos[postings.docs[keep]])
        tfs_l.append(postings.tfs[keep])
    terms = np.concatenate(terms_l)
    order = np.argsort(terms, kind="stable")
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=offsets[1:])
    return _Postings(
        offsets=offsets,
        docs=np.concatenate(docs_l)[order].astype(np.int32),
        tfs=np.concatenate(tfs_l)[order],
    )


def _merge_segments(
    segments: Sequence[_Segment], alive: Sequence[Bools], vocab: _Vocabulary
) -> _Segment:
    """One segment with the live documents of ``segments``, in order."""
    new_pos: list[I64] = []
    base = 0
    for mask in alive:
        new_pos.append(base + np.cumsum(mask, dtype=np.int64) - 1)
        base += int(mask.sum())
    fields: list[_Field] = []
    for index in range(len(FIELDS)):
        stems = _merge_postings(
            [
                (s.fields[index].stems, p, a)
                for s, p, a in zip(segments, new_pos, alive, strict=True)
            ],
            len(vocab.stems),
        )
        prefixes = _merge_postings(
            [
                (s.fields[index].prefixes, p, a)
                for s, p, a in zip(segments, new_pos, alive, strict=True)
            ],
            len(vocab.prefixes),
        )
        lengths = np.concatenate(
            [s.fields[index].lengths[a] for s, a in zip(segments, alive, strict=True)]
        )
        fields.append(_Field(stems=stems, prefixes=prefixes, lengths=lengths))
    n_words = len(vocab.word_stem)
    word_df = np.zeros(n_words, dtype=np.int64)
    fwd_parts: list[I32] = []
    for segment, mask in zip(segments, alive, strict=True):
        word_df += _pad(segment.word_df, n_words)
        starts, ends = segment.fwd_offsets[:-1], segment.fwd_offsets[1:]
        doc_of_word = np.repeat(np.arange(segment.n), ends - starts)
        live_words = mask[doc_of_word]
        fwd_parts.append(segment.fwd_words[live_words])
        dead = ~live_words
        if dead.any():  # their words leave the document frequencies
            keys = segment.fwd_words[dead].astype(np.int64) * segment.n + doc_of_word[dead]
            distinct = _distinct_keys(keys)
            word_df -= np.bincount(distinct // segment.n, minlength=n_words)
    fwd_words = np.concatenate(fwd_parts)
    lengths = fields[_BODY].lengths.astype(np.int64)
    fwd_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=fwd_offsets[1:])
    return _Segment(
        ids=np.concatenate([s.ids[a] for s, a in zip(segments, alive, strict=True)]),
        fields=(fields[0], fields[1], fields[2]),
        fwd_offsets=fwd_offsets,
        fwd_words=fwd_words,
        gram_lengths=np.concatenate(
            [s.gram_lengths[a] for s, a in zip(segments, alive, strict=True)]
        ),
        word_df=word_df.astype(np.int32),
    )


@dataclass(frozen=True, slots=True)
class _Lexicon:
    """numpy copies of the vocabulary arrays and the n-gram IDF, as of one snapshot."""

    word_stem: I32
    gram_offsets: I64
    gram_ids: I32
    gram_idf: F32

    def nbytes(self) -> int:
        return (
            self.word_stem.nbytes
            + self.gram_offsets.nbytes
            + self.gram_ids.nbytes
            + self.gram_idf.nbytes
        )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    segments: tuple[_Segment, ...]
    bases: I64  # global position of each segment's first document
    alive: Bools  # by global position
    ids: I64  # chunk id by global position
    live: int
    norms: tuple[F32, F32, F32]  # k1 * (1 - b + b * length / average) by field and position
    gram_norms: F32
    lexicon: _Lexicon

    @property
    def n(self) -> int:
        return len(self.ids)

    def df(self, field_index: int, prefix: bool, term: int) -> int:
        total = 0
        for segment in self.segments:
            f = segment.fields[field_index]
            total += (f.prefixes if prefix else f.stems).df(term)
        return total


def _idf(n: int, df: npt.ArrayLike) -> npt.NDArray[np.float64]:
    df = np.minimum(np.asarray(df, dtype=np.float64), n)
    return np.log1p((n - df + 0.5) / (df + 0.5))


def _norms(lengths: F32, k1: float, b: float) -> F32:
    average = float(lengths.mean()) if len(lengths) and lengths.any() else 1.0
    return (k1 * (1.0 - b + b * lengths / average)).astype(np.float32)


def _lexicon(vocab: _Vocabulary, segments: Sequence[_Segment], n: int) -> _Lexicon:
    word_stem = np.frombuffer(vocab.word_stem, dtype=np.int32).copy()
    gram_offsets = np.frombuffer(vocab.gram_offsets, dtype=np.int64).copy()
    gram_ids = np.frombuffer(vocab.gram_ids, dtype=np.int32).copy()
    word_df = np.zeros(len(word_stem), dtype=np.int64)
    for segment in segments:
        word_df += _pad(segment.word_df, len(word_stem))
    # A gram's document frequency, estimated as the sum over the words that contain it (exact
    # unless two such words share a document; then it errs towards a lower IDF).
    gram_df = np.bincount(
        gram_ids, weights=np.repeat(word_df, np.diff(gram_offsets)), minlength=len(vocab.grams)
    )
    return _Lexicon(
        word_stem=word_stem,
        gram_offsets=gram_offsets,
        gram_ids=gram_ids,
        gram_idf=_idf(max(n, 1), gram_df).astype(np.float32),
    )


def _snapshot(
    segments: tuple[_Segment, ...],
    alive: Bools,
    config: LexicalConfig,
    lexicon: _Lexicon,
) -> _Snapshot:
    sizes = [s.n for s in segments]
    bases = np.zeros(len(segments), dtype=np.int64)
    if segments:
        bases[1:] = np.cumsum(sizes)[:-1]
    norms: list[F32] = []
    for index, weights in enumerate(config.fields()):
        lengths = np.concatenate(
            [s.fields[index].lengths for s in segments] or [np.zeros(0, np.float32)]
        )
        norms.append(_norms(lengths, weights.k1, weights.b))
    gram_lengths = np.concatenate([s.gram_lengths for s in segments] or [np.zeros(0, np.float32)])
    return _Snapshot(
        segments=segments,
        bases=bases,
        alive=alive,
        ids=np.concatenate([s.ids for s in segments] or [np.zeros(0, np.int64)]),
        live=int(alive.sum()),
        norms=(norms[0], norms[1], norms[2]),
        gram_norms=_norms(gram_lengths, config.ngram_k1, config.ngram_b),
        lexicon=lexicon,
    )


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
