"""Text analysis for the knowledge index: Russian and English text to index terms and stems.

Two steps, both memoised per distinct word:

- ``analyze(text)``: the index terms of a text, i.e. its content words in order: case-folded,
  ``ё`` -> ``е``, cut into runs of letters and digits (a number keeps its decimal part;
  ``2,5`` and ``2.5`` both become ``2.5``), stop words dropped. These are what a chunk stores
  and what ``LexicalIndex`` takes, for documents and queries alike.
- ``stem(term)``: the Snowball stem of a term by its script (Cyrillic -> Russian, otherwise
  English), from PyStemmer, the C implementation. The index stems terms itself.

Terms are words, not stems, because the index also compares the character n-grams of the
words (an inflected form the stemmer cannot relate, ``Пэнтерс``/``Пантерс``, still shares
most of its n-grams), which measurably beats n-grams of stems; and stored terms stay valid if
the stemmer changes.

Speed: a knowledge base is indexed in bulk (100k chunks of ~1000 characters), and natural
text repeats its words, so each distinct word is looked at once and remembered in a bounded
dict; a repeated word costs one dict lookup. A memo is emptied when it reaches ``MEMO_SIZE``
entries, which bounds its memory on pathological input with no bookkeeping on the hot path.

Thread safety: PyStemmer's stemmers keep internal state and must not run concurrently, so
the (rare) memo misses of ``stem`` run under a lock; hits take no lock.
"""

from __future__ import annotations

import re
import threading
from typing import Protocol, cast

from frontline.ai.offline.text import EN_STOP_WORDS, RU_STOP_WORDS

__all__ = ["MEMO_SIZE", "STOP_WORDS", "analyze", "stem", "stems", "term", "words"]

MEMO_SIZE = 200_000

# A run of letters, digits and underscores (an identifier such as ``max_connections`` stays
# one word), with the decimal or thousands parts of a number ("2.5", "2,5", "1,000").
_WORD = re.compile(r"\w+(?:[.,]\d+)*")
_CYRILLIC = re.compile(r"[а-я]")
_NUMBER = re.compile(r"[\d.,]+")

# The offline engine's lists are tuned for chat (FAQ matching keeps question words and drops
# greetings and chat verbs). For documents, words that can carry the topic of a passage
# ("день" in "День города", "like", "need") are kept, and question words, which a document
# rarely contains and which would otherwise get a high IDF from it, are dropped.
_KEEP = frozenset(
    ["день", "вечер", "утро", "know", "tell", "want", "like", "need", "get", "well", "let"]
)
_EXTRA_EN = frozenset(
    [
        *("what", "which", "who", "whom", "whose", "when", "where", "why", "how"),
        *("than", "such", "each", "other", "only", "own", "same", "both", "few", "more"),
        *("most", "nor", "off", "out", "over", "under", "again", "further", "once"),
        *("during", "before", "after", "above", "below", "between", "through", "up"),
        *("down", "while", "because", "until", "against"),
        # the remains of contractions split at the apostrophe: what's, don't, we'll, I've
        *("s", "t", "ll", "ve", "re"),
    ]
)
_EXTRA_RU = frozenset(
    [
        *("что", "чем", "чему", "чего", "кто", "кого", "кому", "кем", "ком", "чей", "чья"),
        *("чье", "чьи", "какой", "какая", "какое", "какие", "каких", "каким", "какими"),
        *("каком", "какую", "какого", "какому", "каков", "какова", "каково", "каковы"),
        *("который", "которая", "которое", "которые", "которого", "которой", "которому"),
        *("котором", "которую", "которых", "которым", "которыми", "где", "куда", "откуда"),
        *("когда", "почему", "зачем", "как", "сколько", "ли", "либо", "разве", "неужели"),
        *("же", "ведь", "вот", "это", "этого", "этой", "этом", "этому", "этим", "этими"),
        *("этих", "эту", "то", "того", "той", "тому", "том", "тем", "теми", "тех", "ту"),
        *("все", "всех", "всем", "всеми", "весь", "вся", "всего", "всей", "всему", "всю"),
        *("такой", "такая", "такое", "такие", "таких", "таким", "свою", "своих", "своей"),
        *("своим", "своего", "своему", "своем", "своими", "себя", "себе", "собой", "сам"),
        *("сама", "само", "сами", "самим", "самих", "самого", "между", "чтобы", "если"),
        *("или", "также", "только", "лишь", "еще", "уже", "был", "была", "было", "были"),
        *("будет", "будут", "быть", "является", "являются", "являлся", "являлась"),
        *("являлось", "являлись", "его", "ее", "их", "они", "оно", "она", "он"),
    ]
)
STOP_WORDS: frozenset[str] = (EN_STOP_WORDS | RU_STOP_WORDS | _EXTRA_EN | _EXTRA_RU) - _KEEP


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...


def _make_stemmer(algorithm: str) -> _Stemmer:
    import Stemmer

    # PyStemmer's own cache is disabled: the memo in front of it does that job, for free.
    return cast(_Stemmer, Stemmer.Stemmer(algorithm, 0))


_RUSSIAN = _make_stemmer("russian")
_ENGLISH = _make_stemmer("english")
_LOCK = threading.Lock()
_terms: dict[str, str] = {}  # word -> term ("" for a word that is not indexed)
_stems: dict[str, str] = {}  # term -> stem


def words(text: str) -> list[str]:
    """The words of ``text``, stop words included: case-folded, ``ё`` -> ``е``."""
    return _WORD.findall(text.casefold().replace("ё", "е"))


def _term(word: str) -> str:
    word = word.strip("_")
    if not word or word in STOP_WORDS:
        return ""
    if _NUMBER.fullmatch(word):
        return word.replace(",", ".")  # 2,5 (ru) = 2.5 (en)
    return word


def term(word: str) -> str:
    """The index term of one word from ``words``; ``""`` when it is not indexed (a stop
    word)."""
    found = _terms.get(word)
    if found is None:
        found = _term(word)
        if len(_terms) >= MEMO_SIZE:
            _terms.clear()
        _terms[word] = found
    return found


def analyze(text: str) -> list[str]:
    """The index terms of ``text``, in order (see the module doc)."""
    memo = _terms
    out: list[str] = []
    append = out.append
    for word in _WORD.findall(text.casefold().replace("ё", "е")):
        found = memo.get(word)
        if found is None:
            found = term(word)
        if found:
            append(found)
    return out


def stem(term: str) -> str:
    """The Snowball stem of an index term (Russian for Cyrillic, else English); numbers and
    terms the stemmer would empty stay as they are."""
    found = _stems.get(term)
    if found is None:
        if _NUMBER.fullmatch(term):
            found = term
        else:
            stemmer = _RUSSIAN if _CYRILLIC.search(term) else _ENGLISH
            with _LOCK:
                found = stemmer.stemWord(term) or term
        if len(_stems) >= MEMO_SIZE:
            _stems.clear()
        _stems[term] = found
    return found


def stems(text: str) -> list[str]:
    """The stems of the index terms of ``text``, in order."""
    return [stem(t) for t in analyze(text)]
