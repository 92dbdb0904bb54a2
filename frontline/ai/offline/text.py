"""Text normalisation for the offline engine: language detection, tokenisation, stop words
and stemming for Russian and English.

Everything here is a pure function of its input (no network, no randomness), so the engine
built on it is deterministic. Stemming uses the Snowball stemmers of the ``snowballstemmer``
package, chosen per token by its script (Cyrillic -> Russian, Latin -> English).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, cast

import snowballstemmer  # type: ignore[import-untyped]

Language = Literal["ru", "en"]

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
# English contractions are folded before tokenising so "what's" and "what is" agree.
_CONTRACTIONS = (
    (re.compile(r"\b(can)'t\b|\b(won)'t\b", re.IGNORECASE), r"\1\2 not"),
    (re.compile(r"n't\b", re.IGNORECASE), " not"),
    (re.compile(r"'(s|re|m|ll|ve|d)\b", re.IGNORECASE), ""),
    (re.compile(r"[’'`]"), ""),
)

# Small, conservative lists: words that carry no topic. Question words are kept on purpose
# ("how", "when", "где", "сколько") because they separate FAQ entries ("how much does X
# cost" vs "when does X open").
EN_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "us",
        "our",
        "ours",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "would",
        "could",
        "should",
        "shall",
        "will",
        "may",
        "might",
        "must",
        "can",
        "please",
        "pls",
        "plz",
        "just",
        "also",
        "too",
        "very",
        "really",
        "some",
        "any",
        "all",
        "yes",
        "no",
        "not",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "ok",
        "okay",
        "um",
        "uh",
        "oh",
        "well",
        "let",
        "know",
        "tell",
        "want",
        "like",
        "need",
        "get",
    ]
)
RU_STOP_WORDS = frozenset(
    [
        "и",
        "а",
        "но",
        "или",
        "да",
        "нет",
        "не",
        "ни",
        "же",
        "ли",
        "бы",
        "в",
        "во",
        "на",
        "по",
        "к",
        "ко",
        "с",
        "со",
        "у",
        "о",
        "об",
        "от",
        "до",
        "за",
        "из",
        "под",
        "над",
        "при",
        "для",
        "без",
        "про",
        "через",
        "это",
        "этот",
        "эта",
        "эти",
        "то",
        "тот",
        "та",
        "те",
        "так",
        "там",
        "тут",
        "здесь",
        "вот",
        "я",
        "мы",
        "ты",
        "вы",
        "он",
        "она",
        "оно",
        "они",
        "меня",
        "мне",
        "мной",
        "нас",
        "нам",
        "нами",
        "тебя",
        "тебе",
        "вас",
        "вам",
        "вами",
        "его",
        "ему",
        "им",
        "ее",
        "её",
        "ей",
        "их",
        "мой",
        "моя",
        "мое",
        "моё",
        "мои",
        "наш",
        "наша",
        "наше",
        "наши",
        "ваш",
        "ваша",
        "ваше",
        "ваши",
        "твой",
        "свой",
        "своя",
        "свое",
        "своё",
        "свои",
        "был",
        "была",
        "было",
        "были",
        "быть",
        "есть",
        "будет",
        "будут",
        "бывает",
        "уже",
        "еще",
        "ещё",
        "тоже",
        "также",
        "очень",
        "просто",
        "пожалуйста",
        "здравствуйте",
        "привет",
        "добрый",
        "день",
        "вечер",
        "утро",
        "спасибо",
        "хочу",
        "хотел",
        "хотела",
        "хотим",
        "можно",
        "ну",
        "вообще",
        "подскажите",
        "скажите",
    ]
)
# Frequent function words, used as extra evidence of the language (beyond the script).
_EN_MARKERS = frozenset(
    [
        "the",
        "is",
        "are",
        "you",
        "to",
        "and",
        "of",
        "in",
        "what",
        "how",
        "my",
        "i",
        "it",
        "for",
        "please",
        "can",
    ]
)
_RU_MARKERS = frozenset(
    [
        "и",
        "в",
        "не",
        "на",
        "что",
        "как",
        "я",
        "у",
        "мне",
        "это",
        "по",
        "можно",
        "пожалуйста",
        "есть",
    ]
)


@lru_cache(maxsize=2)
def _stemmer(language: Language) -> snowballstemmer.basestemmer.BaseStemmer:
    return snowballstemmer.stemmer("russian" if language == "ru" else "english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of one lower-case word, by its script."""
    language: Language = "ru" if _CYRILLIC.search(word) else "en"
    return cast(str, _stemmer(language).stemWord(word))


def normalize(text: str) -> str:
    """Lower-case, ``ё`` -> ``е``, contractions folded, whitespace collapsed."""
    text = text.lower().replace("ё", "е")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The word tokens (letters and digits) of normalised ``text``."""
    return _TOKEN.findall(normalize(text))


def is_stop_word(word: str) -> bool:
    return word in EN_STOP_WORDS or word in RU_STOP_WORDS


def content_stems(text: str) -> list[str]:
    """Stems of the words of ``text`` that are not stop words, in order."""
    return [stem(w) for w in words(text) if not is_stop_word(w)]


def detect_language(text: str, default: Language = "en") -> Language:
    """``"ru"`` or ``"en"`` by the majority of letters, with frequent function words of
    each language as extra votes; ``default`` when the text has no letters at all."""
    cyrillic = len(_CYRILLIC.findall(text))
    latin = len(_LATIN.findall(text))
    tokens = words(text)
    cyrillic += 3 * sum(1 for t in tokens if t in _RU_MARKERS)
    latin += 3 * sum(1 for t in tokens if t in _EN_MARKERS)
    if cyrillic == latin:
        return default
    return "ru" if cyrillic > latin else "en"
