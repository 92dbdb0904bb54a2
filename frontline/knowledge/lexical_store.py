"""The storage of the lexical index (see ``lexical``): the vocabulary, CSR postings per
segment, segment building and merging, and the immutable snapshots searches read."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Final

import numpy as np
import numpy.typing as npt

from frontline.knowledge.analysis import stem

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
