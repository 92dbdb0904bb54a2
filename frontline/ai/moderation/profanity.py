"""Profanity in Russian and English, with the usual disguises seen through.

The word lists are data files beside this module (``words/ru.txt``, ``words/en.txt``; their
headers describe the format). A message is cut into words, and each word is tried in a few
normalised forms:

- lower case, ``ё`` -> ``е``, punctuation around it dropped;
- separators between letters removed (``f.u.c.k``, ``х-у-й``) and letters spaced out across
  words joined (``f u c k``);
- look-alike letters, digits and symbols mapped to one script (``xуй`` with a Latin ``x``,
  ``fuсk`` with a Cyrillic ``с``, ``sh1t``, ``$hit``, ``6ля``) - a form counts only when
  the mapping leaves a word of a single script;
- repeated letters collapsed (``fuuuck``, ``сууука``);
- masks (``х*й``, ``f**k``, ``бл#ть``): each run of ``*``/``#`` stands for one to a few
  letters and the word matches when some listed form fits it.

Russian stems are matched at the start of a word (optionally after a verbal prefix for the
entries marked ``+``), which covers the inflected and derived forms (``заебали``,
``пиздец``, ``охуеть``) while words that merely contain the letters (``застрахуйте``,
``требую``, ``рубля``, ``себе``) do not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources

# verbal prefixes Russian mat takes ("на-хуй", "за-ебал", "отъ-ебись"); deliberately not
# "в" and "с" alone ("веб", "себе" would match "еб")
RU_PREFIXES = (
    "а",
    "вы",
    "въ",
    "до",
    "за",
    "изъ",
    "на",
    "недо",
    "ни",
    "о",
    "объ",
    "от",
    "отъ",
    "пере",
    "по",
    "подъ",
    "при",
    "про",
    "разъ",
    "съ",
    "у",
)

_TO_CYRILLIC = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "i": "и",
        "k": "к",
        "m": "м",
        "n": "п",
        "o": "о",
        "p": "р",
        "r": "г",
        "t": "т",
        "u": "и",
        "x": "х",
        "y": "у",
        "0": "о",
        "1": "и",
        "3": "з",
        "4": "ч",
        "6": "б",
        "@": "а",
    }
)
_TO_LATIN = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "с": "c",
        "е": "e",
        "н": "h",
        "и": "u",
        "к": "k",
        "м": "m",
        "п": "n",
        "о": "o",
        "р": "p",
        "г": "r",
        "т": "t",
        "х": "x",
        "у": "y",
        "0": "o",
        "1": "i",
        "!": "i",
        "|": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "$": "s",
        "@": "a",
    }
)
_ONE_SCRIPT = re.compile(r"[а-я]+|[a-z]+")
_REPEATS = re.compile(r"(.)\1+")
_EDGE = ".,!?;:()[]{}<>\"'«»„“”…–—-_/\\|*#~`^="
_INNER_SEPARATORS = re.compile(r"[.\-_'’`~^]+")
_PARTS = re.compile(r"[^\w@$!|]+")
_MASK = re.compile(r"[*#]+")
# endings tried when a masked word is matched against a stem ("п*здец" ~ "пизд" + "ец")
_ENDINGS = (
    "",
    "а",
    "у",
    "е",
    "ы",
    "и",
    "о",
    "я",
    "ь",
    "ец",
    "ня",
    "ать",
    "ять",
    "ить",
    "ть",
    "ал",
    "ed",
    "er",
    "ing",
    "in",
    "s",
    "y",
)


def collapse(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


@dataclass(frozen=True)
class Lexicon:
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    infixes: tuple[str, ...]

    @cached_property
    def starts(self) -> re.Pattern[str]:
        return _alternation(self.prefixes, anchored=True)

    @cached_property
    def inside(self) -> re.Pattern[str]:
        return _alternation(self.infixes, anchored=False)

    def matches(self, word: str) -> bool:
        """Whether the normalised, collapsed ``word`` is listed."""
        if word in self.exact:
            return True
        if self.prefixes and self.starts.match(word):
            return True
        return bool(self.infixes) and self.inside.search(word) is not None

    @cached_property
    def samples(self) -> tuple[str, ...]:
        """Listed forms a masked word is compared with: the words and each stem with
        common endings."""
        stems = self.prefixes + self.infixes
        return tuple(sorted(self.exact)) + tuple(collapse(s + e) for s in stems for e in _ENDINGS)


def _alternation(items: tuple[str, ...], anchored: bool) -> re.Pattern[str]:
    body = "|".join(re.escape(i) for i in sorted(items, key=len, reverse=True)) or "(?!)"
    return re.compile(("^" if anchored else "") + "(?:" + body + ")")


def parse_list(text: str) -> Lexicon:
    """A lexicon from the word-list format (see the files' headers)."""
    exact: set[str] = set()
    prefixes: list[str] = []
    infixes: list[str] = []
    for raw in text.splitlines():
        line = raw.strip().lower().replace("ё", "е")
        if not line or line.startswith("#"):
            continue
        if line.startswith("~"):
            infixes.append(collapse(line[1:]))
        elif line.endswith("*"):
            stem = line[:-1]
            if stem.startswith("+"):
                stem = stem[1:]
                prefixes.extend(collapse(p + stem) for p in RU_PREFIXES)
            prefixes.append(collapse(stem))
        else:
            exact.add(collapse(line))
    return Lexicon(frozenset(exact), tuple(dict.fromkeys(prefixes)), tuple(dict.fromkeys(infixes)))


@cache
def lexicon() -> Lexicon:
    """The packaged Russian and English lists, as one lexicon (a word is tried in both
    scripts anyway)."""
    folder = resources.files("frontline.ai.moderation") / "words"
    parts = [parse_list((folder / name).read_text(encoding="utf-8")) for name in LISTS]
    return Lexicon(
        frozenset().union(*(p.exact for p in parts)),
        tuple(dict.fromkeys(x for p in parts for x in p.prefixes)),
        tuple(dict.fromkeys(x for p in parts for x in p.infixes)),
    )


LISTS = ("ru.txt", "en.txt")


def _forms(chunk: str) -> set[str]:
    """The single-script, collapsed forms a written word may stand for."""
    bases = {_INNER_SEPARATORS.sub("", chunk), *(_PARTS.split(chunk))}
    out: set[str] = set()
    for base in bases:
        if not base:
            continue
        variants = [base, base.translate(_TO_CYRILLIC)]
        if not base.isalpha() or re.search(r"[a-z]", base):
            variants.append(base.translate(_TO_LATIN))
        for variant in variants:
            if _ONE_SCRIPT.fullmatch(variant):
                out.add(collapse(variant))
    return out


def _masked(chunk: str, lex: Lexicon) -> bool:
    """A word with ``*``/``#`` standing for letters (``х*й``, ``f**k``) that fits a listed
    form."""
    letters = sum(ch.isalpha() for ch in chunk)
    masks = sum(len(m) for m in _MASK.findall(chunk))
    if letters < 2 or masks == 0 or masks > letters:
        return False
    for base in {chunk, chunk.translate(_TO_CYRILLIC), chunk.translate(_TO_LATIN)}:
        pieces = []
        for piece in re.split(r"([*#]+)", base):
            if _MASK.fullmatch(piece):
                pieces.append(r"\w{1," + str(len(piece) + 1) + "}")
            else:
                pieces.append(re.escape(piece))
        pattern = re.compile("".join(pieces))
        if any(pattern.fullmatch(sample) for sample in lex.samples):
            return True
    return False


def _chunks(text: str) -> list[str]:
    words = (raw.strip(_EDGE) for raw in text.lower().replace("ё", "е").split())
    return [w for w in words if w]


_REMEMBERED_CHARS = 40  # longer "words" (links, keyboard mashing) are not remembered


def _profane_word(chunk: str) -> bool:
    """Whether one written word is profanity."""
    if len(chunk) <= _REMEMBERED_CHARS:
        return _profane_short_word(chunk)
    return _profane(chunk)


@lru_cache(maxsize=65_536)
def _profane_short_word(chunk: str) -> bool:
    """Remembered: this runs on every inbound message, words recur across customers'
    messages (most of a language's text is its few thousand commonest words) and working
    out each word's forms cost a tenth of a millisecond a message; the lexicon is fixed for
    the process, so a word's verdict never changes."""
    return _profane(chunk)


def _profane(chunk: str) -> bool:
    lex = lexicon()
    if any(lex.matches(form) for form in _forms(chunk)):
        return True
    return bool(_MASK.search(chunk)) and _masked(chunk, lex)


def find_profanity(text: str) -> str | None:
    """The first word of ``text`` that is profanity (as written), ``None`` when clean."""
    lex = lexicon()
    chunks = _chunks(text)
    for chunk in chunks:
        if _profane_word(chunk):
            return chunk
    # letters spaced out over several words: "f u c k", "х у й"
    run: list[str] = []
    for chunk in [*chunks, ""]:
        if len(chunk) == 1:
            run.append(chunk)
            continue
        if len(run) >= 3:
            joined = "".join(run)
            if any(lex.matches(form) for form in _forms(joined)):
                return " ".join(run)
        run = []
    return None
