"""Answers composed from knowledge sentences: the one to three sentences (or the list) that
carry the answer to a question, chosen across the retrieved passages, or no answer at all.

Contract of :meth:`Composer.compose`: it returns an ``answer`` only when a sentence both
names what the question asks about (its *concepts*, see :mod:`.lexicon`: a price, a date, a
refund...) or covers the question's words, and sits in a passage about the thing the
question names (its *entities*); ``clarify`` when several passages about different things
answer equally (a price asked with no tour named); ``none`` otherwise - in particular when
the question uses a word the knowledge base does not know at all (a destination, a service,
a payment method the business does not offer): a nearby passage is never offered as the
answer to a question about something else.

How a question is read:

- words in Latin letters that the knowledge base does not know are read as Russian in
  transliteration when that spelling is close to a known word (``altai tsena``);
- a word it does not know is corrected to a known word (or a lexicon word) within a small
  edit distance of its stem (``брониравания``); what stays unknown and is not a chat word
  (``FILLERS``) makes the question out of scope;
- entities are the proper names of the knowledge base: words written with a capital letter
  inside a sentence of its text (``Байкал``, ``Altai``), months and weekdays aside. An
  entity named earlier in the conversation carries over to a question that names none.

How a sentence is scored: the share of the question's concepts it shows (the passage's
heading counts half), and the IDF-weighted share of the question's other words found in it
(found only elsewhere in its passage: half). A passage in the customer's language is
preferred when one qualifies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz.distance import Levenshtein

from frontline.ai.offline.lexicon import (
    AMOUNT_OF,
    FILLERS,
    LEXICON_WORDS,
    VALUE_CONCEPTS,
    _w,
    concepts,
    phrase_stems,
    to_cyrillic,
    values,
)
from frontline.ai.offline.retrieval import SENTENCE_SPLIT, Passage
from frontline.ai.offline.text import Language, detect_language, is_stop_word, stem, words

_CAPITALIZED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LATIN = re.compile(r"^[a-z]+$")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_NOT_ENTITIES = frozenset(
    stem(w)
    for w in _w(
        "january february march april may june july august september october november "
        "december monday tuesday wednesday thursday friday saturday sunday i"
    )
)
# How much a question's concepts weigh against its other words when both are present.
CONCEPT_WEIGHT = 0.6
# The weight of the share of the question's words a sentence repeats (a tie-breaker).
OVERLAP_WEIGHT = 0.1
# A second or third sentence is added when it scores at least this share of the best one.
COMPANION_SHARE = 0.85
# ... and sits at most this many sentences away from it
COMPANION_DISTANCE = 2
MAX_SENTENCES = 3
MAX_ITEMS = 10
# The least share of the question's topic words an answer must cover.
MIN_COVERAGE = 0.75
# the shortest stem of a name that counts as the start of another form of it
MIN_VARIANT = 4
# A similar passage's excerpt: its sentence, with the next one when both fit this.
EXCERPT_CHARS = 300
# Two answers from different passages this close make the question ambiguous.
AMBIGUITY_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class Composition:
    """What the composer decided: ``kind`` ``answer`` (``text`` is the reply body and
    ``citations`` the passages used), ``clarify`` (``options``: what the customer can
    choose between) or ``none`` (``note`` says why)."""

    kind: Literal["answer", "clarify", "none"]
    confidence: float = 0.0
    text: str = ""
    citations: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    title: str = ""
    note: str = ""
    entities: tuple[str, ...] = ()
    language: Language | None = None  # the reply's language when it differs from the ask


@dataclass(slots=True)
class _Unit:
    index: int  # position in its passage
    text: str
    stems: frozenset[str]
    concepts: frozenset[str]
    values: frozenset[str]
    item: bool


@dataclass(slots=True)
class _Info:
    passage: Passage
    language: Language
    heading: str
    heading_concepts: frozenset[str]
    heading_stems: frozenset[str]
    stems: frozenset[str]
    entities: frozenset[str] = frozenset()
    heading_entities: frozenset[str] = frozenset()
    lead_entities: frozenset[str] = frozenset()  # in the heading or the first sentence
    units: list[_Unit] = field(default_factory=list)
    faq: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A question as the composer reads it (see the module doc)."""

    stems: tuple[str, ...]  # every word's stem, in order (corrected)
    content: tuple[frozenset[str], ...]  # topic words (stem alternatives), not lexicon words
    concepts: frozenset[str]
    entities: frozenset[str]
    unknown: tuple[str, ...]  # words the knowledge base does not know
    transliterated: bool = False  # most Latin words were read as Russian


def _heading(passage: Passage) -> str:
    parts = [p.strip() for p in passage.title.split(">") if p.strip()]
    return parts[-1] if parts else ""


def _stems_of(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def _content(stems_in_order: Sequence[str], tokens: Sequence[str]) -> list[str]:
    return [
        s
        for s, w in zip(stems_in_order, tokens, strict=True)
        if not is_stop_word(w) and w not in FILLERS and not w.isdigit()
    ]


def _units(passage: Passage) -> tuple[list[str], bool]:
    if passage.answer:
        return [passage.answer.strip()], True
    lines = [u.strip() for u in SENTENCE_SPLIT.split(passage.text) if u.strip()]
    if lines:
        lines[0] = _unglued(lines[0], passage.title)
    return lines, False


def _unglued(first: str, title: str) -> str:
    """The passage's first sentence without a heading glued to its start: a line of bold
    text or a heading that a parser joined to the paragraph below it ("Sayan glacier trek
    The trek takes 6 days.") is a title, not part of the answer."""
    for heading in reversed([p.strip() for p in title.split(">") if p.strip()]):
        if first.startswith(heading) and len(first) > len(heading) + 1:
            rest = first[len(heading) :].lstrip(" :.-—")
            if rest[:1].isupper() and first[len(heading)] in " :.-—":
                return rest
    return first


def _entity_candidates(text: str) -> set[str]:
    """Stems of the words written with a capital letter inside a sentence of ``text``."""
    found: set[str] = set()
    for unit in SENTENCE_SPLIT.split(text):
        for position, token in enumerate(_CAPITALIZED.findall(unit)):
            if position > 0 and token[0].isupper() and len(token) > 2:
                found.add(stem(token.lower().replace("ё", "е")))
    return found


class Composer:
    """Built once over a set of passages (a turn's retrieved chunks); ``compose`` is a pure
    function of its arguments."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.infos: list[_Info] = []
        self._words: dict[str, str] = {}  # known word -> its stem
        entity_stems: set[str] = set()
        for passage in passages:
            entity_stems |= _entity_candidates(passage.text)
        entity_stems -= _NOT_ENTITIES
        entity_stems -= {stem(w) for w in LEXICON_WORDS | FILLERS}
        self.entities = frozenset(entity_stems)
        document_frequency: dict[str, int] = {}
        vocabulary: set[str] = set()
        for passage in passages:
            heading = _heading(passage)
            heading_stems = _stems_of(heading)
            lines, faq = _units(passage)
            whole = f"{passage.title}\n{passage.text}\n{passage.answer or ''}"
            whole_words = words(whole)
            all_stems = [stem(w) for w in whole_words]
            vocabulary.update(all_stems)
            self._words.update(zip(whole_words, all_stems, strict=True))
            info = _Info(
                passage=passage,
                language=detect_language(passage.answer or passage.text or passage.title),
                heading=heading,
                heading_concepts=concepts(heading_stems),
                heading_stems=frozenset(heading_stems),
                stems=frozenset(all_stems),
                entities=frozenset(s for s in all_stems if s in self.entities),
                heading_entities=frozenset(s for s in heading_stems if s in self.entities),
                faq=faq,
            )
            for index, line in enumerate(lines):
                unit_text = f"{passage.text}" if faq else line
                unit_stems = _stems_of(unit_text)
                info.units.append(
                    _Unit(
                        index=index,
                        text=line,
                        stems=frozenset(unit_stems),
                        concepts=concepts(unit_stems),
                        values=values(unit_text),
                        item=bool(_ITEM.match(line)),
                    )
                )
            first = _stems_of(lines[0]) if lines and not faq else []
            info.lead_entities = info.heading_entities | {s for s in first if s in self.entities}
            for s in info.stems:
                document_frequency[s] = document_frequency.get(s, 0) + 1
            self.infos.append(info)
        n = max(len(self.infos), 1)
        self._idf = {s: math.log(1 + n / df) for s, df in document_frequency.items()}
        self._known = frozenset(vocabulary)
        lexicon = {stem(w) for w in LEXICON_WORDS} | {stem(w) for w in FILLERS}
        self._correctable = sorted(self._known | lexicon)
        self._lexicon = frozenset(lexicon)

    # --- reading the question -----------------------------------------------------------

    def _correct(self, word: str, word_stem: str) -> str:
        """``word_stem`` itself when known; else the closest known stem within a small edit
        distance (of the word's Cyrillic spelling too, for Latin letters); else itself."""
        if word_stem in self._known or word_stem in self._lexicon:
            return word_stem
        candidates = [word_stem]
        if _LATIN.match(word):
            candidates.append(stem(to_cyrillic(word)))
        for candidate in candidates:
            if candidate in self._known or candidate in self._lexicon:
                return candidate
        for candidate in candidates:  # a derived form of a known word: байкальск(ий) - байкал
            for cut in range(len(candidate) - 1, max(3, len(candidate) - 5), -1):
                if candidate[:cut] in self._known:
                    return candidate[:cut]
        best, best_distance = word_stem, 99
        spelled = [word, *([to_cyrillic(word)] if _LATIN.match(word) else [])]
        for candidate in spelled:  # a typo in a short word: алтй - алтай
            if len(candidate) < 4:
                continue
            limit = 1 if len(candidate) <= 6 else 2
            for known, known_stem in self._words.items():
                if abs(len(known) - len(candidate)) > limit:
                    continue
                if len(candidate) <= 6 and known[:1] != candidate[:1]:
                    continue  # tents is not rents: short words keep their first letter
                distance = Levenshtein.distance(candidate, known, score_cutoff=limit)
                if distance <= limit and distance < best_distance:
                    best, best_distance = known_stem, distance
        for candidate in candidates:
            if len(candidate) < 4:
                continue
            limit = 1 if len(candidate) <= 6 else 2
            for known in self._correctable:
                if abs(len(known) - len(candidate)) > limit:
                    continue
                if len(candidate) <= 6 and known[:1] != candidate[:1]:
                    continue
                distance = Levenshtein.distance(candidate, known, score_cutoff=limit)
                if distance <= limit and distance < best_distance:
                    best, best_distance = known, distance
        return best

    def read(self, text: str, earlier: Sequence[str] = ()) -> Query:
        """The question as the composer reads it; ``earlier``: the customer's earlier
        messages, oldest first (their last named entity carries over)."""
        tokens = words(text)
        corrected = [self._correct(w, stem(w)) for w in tokens]
        # a Latin word may be Russian in transliteration: its Cyrillic reading, when known,
        # is an alternative (the knowledge base may have both languages)
        alternatives: list[frozenset[str]] = []
        readings = list(corrected)
        for position, (word, s) in enumerate(zip(tokens, corrected, strict=True)):
            choices = {s}
            general = s in self._lexicon or is_stop_word(word) or word in FILLERS
            if _LATIN.match(word) and not general:
                cyrillic = to_cyrillic(word)
                reading = self._correct(cyrillic, stem(cyrillic))
                if reading in self._known or reading in self._lexicon:
                    choices.add(reading)
                    readings[position] = reading
            alternatives.append(frozenset(choices))
        latin = [w for w in tokens if _LATIN.match(w)]
        cyrillic_reading = sum(
            1
            for r, c, w in zip(readings, corrected, tokens, strict=True)
            if _LATIN.match(w) and not (_LATIN.match(r) and _LATIN.match(c))
        )
        only_cyrillic = any(
            _LATIN.match(w) and not _LATIN.match(r) and stem(w) not in self._known
            for r, w in zip(readings, tokens, strict=True)
        )
        found = concepts(corrected) | concepts(readings)
        lexical = phrase_stems(corrected) | phrase_stems(readings)
        content: list[frozenset[str]] = []
        unknown: list[str] = []
        for word, options in zip(tokens, alternatives, strict=True):
            if is_stop_word(word) or word in FILLERS or word.isdigit():
                continue
            if options & self._lexicon or options & lexical:
                continue
            content.append(frozenset(self._variants(set(options))))
            if not options & self._known and not any(ch.isdigit() for ch in word):
                unknown.append(word)
        entities = {s for options in alternatives for s in options if s in self.entities}
        if not entities:
            for message in reversed(earlier):
                before = {self._correct(w, stem(w)) for w in words(message)} & self.entities
                if before:
                    entities = before
                    break
        entities = self._variants(entities)
        return Query(
            stems=tuple(corrected),
            content=tuple(content),
            concepts=found,
            entities=frozenset(entities),
            unknown=tuple(unknown),
            transliterated=only_cyrillic and cyrillic_reading * 2 >= len(latin),
        )

    # --- choosing sentences ---------------------------------------------------------------

    def _variants(self, entities: set[str]) -> set[str]:
        """``entities`` with the knowledge base's other stems of the same names: the stemmer
        cuts a name's forms differently ("Байкал" -> "байка", "Байкале" -> "байкал"), so
        a stem that starts the other (both of at least ``MIN_VARIANT`` letters) is the same
        name."""
        found = set(entities)
        for asked in entities:
            for known in self.entities:
                shorter, longer = sorted((asked, known), key=len)
                if len(shorter) >= MIN_VARIANT and longer.startswith(shorter):
                    found.add(known)
        return found

    def fits_entities(self, info: _Info, query: Query) -> bool:
        if not query.entities:
            return True
        if info.entities & query.entities:
            return True
        # a general passage (payment, refunds) fits any; one that names another thing in
        # its heading or first sentence is about that thing
        return not info.lead_entities

    def _coverage(self, unit: _Unit, info: _Info, query: Query) -> float:
        """The IDF-weighted share of the question's topic words in the sentence or its
        heading (only elsewhere in its passage: half); a named entity counts wherever it is
        in the passage. 1.0 when the question has no topic words."""
        total = found = 0.0
        for options in query.content:
            weight = max(self._idf.get(s, 1.0) for s in options)
            total += weight
            if options & unit.stems or options & info.heading_stems:
                found += weight
            elif options & info.stems:
                found += weight if options & query.entities else 0.5 * weight
        return found / total if total else 1.0

    def _concepts(self, unit: _Unit, info: _Info, query: Query) -> float:
        """The share of the question's concepts the sentence shows: a value concept (price,
        schedule, phone) by its value (naming it is half), another one by name, in the
        sentence or its passage's heading."""
        if not query.concepts:
            return 1.0
        shown = 0.0
        # an amount asked about a thing ("how much is the deposit") is asked for; the thing
        # beside another concept ("is the deposit refunded") is only named
        things = query.concepts - VALUE_CONCEPTS
        for concept in query.concepts:
            named = concept in unit.concepts or concept in info.heading_concepts
            if concept in AMOUNT_OF and things:
                shown += 1.0 if named else 0.0
            elif concept in AMOUNT_OF:
                # the amount counts in a sentence about the thing (a price is no deposit)
                shown += (1.0 if concept in unit.values else 0.5) if named else 0.0
            elif concept in VALUE_CONCEPTS:
                if concept in unit.values:
                    shown += 1.0
                elif concept in unit.concepts:
                    shown += 0.5
            elif named:
                shown += 1.0
        return shown / len(query.concepts)

    def _score(self, unit: _Unit, info: _Info, query: Query) -> float | None:
        """The sentence's score for the question, or None when it cannot answer it: it must
        show every concept asked (all but one of three or more) and cover most topic
        words."""
        share = self._concepts(unit, info, query)
        needed = 1.0 if len(query.concepts) <= 2 else 0.6
        coverage = self._coverage(unit, info, query)
        if share < needed - 1e-9 or coverage < MIN_COVERAGE:
            return None
        score = CONCEPT_WEIGHT * share + (1 - CONCEPT_WEIGHT) * coverage
        if info.heading_entities & query.entities:
            score += 0.05  # the passage is about the thing named, not only mentions it
        # a sentence about more than was asked is a less specific answer
        score -= 0.03 * len(unit.concepts - query.concepts)
        if unit.item or unit.text.endswith(":"):
            score += 0.02  # a list answers "which ways", "what to take" more completely
        # among sentences that answer alike, the one that repeats more of the question's
        # own words (function words too: "нужна ли", "do I need") is the closer answer
        asked = set(query.stems)
        if asked:
            score += OVERLAP_WEIGHT * len(asked & (unit.stems | info.heading_stems)) / len(asked)
        return score

    def compose(
        self, text: str, language: Language, earlier: Sequence[str] = (), threshold: float = 0.6
    ) -> Composition:
        """Answer ``text`` from the passages, ask which one is meant, or decline (see the
        module doc); ``threshold`` is the least score of an answer's main sentence."""
        query = self.read(text, earlier)
        entities = tuple(sorted(query.entities))
        if query.unknown:
            return Composition("none", note=f"unknown words: {', '.join(query.unknown)}")
        if not query.concepts and not query.content:
            return Composition("none", note="nothing to look for", entities=entities)
        scored: list[tuple[float, int, int, int]] = []  # score, preferred, passage, unit
        for p, info in enumerate(self.infos):
            if not self.fits_entities(info, query):
                continue
            preferred = int(info.language == language)
            for u, unit in enumerate(info.units):
                score = self._score(unit, info, query)
                if score is not None:
                    scored.append((score, preferred, p, u))
        qualified = [s for s in scored if s[0] >= threshold]
        if not qualified:
            best = max((s[0] for s in scored), default=0.0)
            return Composition("none", best, note=f"best sentence {best:.2f}", entities=entities)
        if query.transliterated:
            language = "ru"
            qualified = [
                (sc, int(self.infos[q].language == "ru"), q, u) for sc, _, q, u in qualified
            ]
        if any(s[1] for s in qualified):
            qualified = [s for s in qualified if s[1]]
        qualified.sort(key=lambda s: (-s[0], s[2], s[3]))
        score, _, p, u = qualified[0]
        asked_values = query.concepts & VALUE_CONCEPTS
        if not query.entities and asked_values:
            # passages about different things (each names its own in its heading or first
            # sentence) state values of what is asked - the prices of several tours, and no
            # tour named: ask which one is meant
            top = self.infos[p]
            rivals = [
                self.infos[q].heading
                for sc, _, q, v in qualified
                if sc >= score - AMBIGUITY_MARGIN
                and self.infos[q].heading != top.heading
                and self.infos[q].units[v].values & asked_values
                and self.infos[q].lead_entities - top.lead_entities
            ]
            if rivals and top.units[u].values & asked_values and top.lead_entities:
                options = tuple(dict.fromkeys([top.heading, *rivals]))
                if len(options) > 1:
                    return Composition("clarify", score, options=options, entities=entities)
        info = self.infos[p]
        body = self._body(info, u, score, query)
        return Composition(
            "answer",
            score,
            text=body,
            citations=(info.passage.id,),
            title=info.passage.title or info.passage.id,
            entities=entities,
            language=language,
        )

    def excerpt(self, info: _Info, at: int, query: Query) -> str:
        """What answers from the passage ``info`` around its unit ``at``: the whole list an
        item belongs to, or the sentence with the next one when that is short."""
        units = info.units
        if units[at].item or units[at].text.endswith(":") or info.faq:
            return self._body(info, at, 1.0, query)
        text = units[at].text
        if at + 1 < len(units) and not units[at + 1].item:
            following = units[at + 1].text
            if len(text) + len(following) <= EXCERPT_CHARS:
                text = f"{text} {following}"
        return text

    def _body(self, info: _Info, at: int, score: float, query: Query) -> str:
        units = info.units
        main = units[at]
        if not main.item and main.text.endswith(":") and at + 1 < len(units) and units[at + 1].item:
            at += 1
            main = units[at]
        if main.item:  # the whole list the item belongs to
            start = at
            while start > 0 and units[start - 1].item:
                start -= 1
            end = at
            while end + 1 < len(units) and units[end + 1].item:
                end += 1
            items = [_ITEM.sub("", x.text) for x in units[start : end + 1]][:MAX_ITEMS]
            lead = (
                units[start - 1].text if start > 0 and units[start - 1].text.endswith(":") else ""
            )
            lines = ([lead] if lead else []) + [f"- {item}" for item in items]
            return "\n".join(lines)
        chosen = [at]
        for index, unit in enumerate(units):
            if index == at or len(chosen) >= MAX_SENTENCES or unit.item or unit.text.endswith(":"):
                continue
            if abs(index - at) > COMPANION_DISTANCE:
                continue
            if not (unit.concepts & query.concepts) and query.concepts:
                continue
            companion = self._score(unit, info, query)
            if companion is not None and companion >= COMPANION_SHARE * score:
                chosen.append(index)
        seen: set[str] = set()
        sentences = []
        for index in sorted(chosen):
            key = " ".join(words(units[index].text))
            if key not in seen:
                seen.add(key)
                sentences.append(units[index].text)
        return " ".join(sentences)
