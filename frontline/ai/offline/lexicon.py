"""A paraphrase lexicon for customer support, in Russian and English, and transliteration.

A *concept* is what a question asks about (a price, a date, a refund...), named by the
many ways customers say it: "сколько стоит", "почём", "цена", "price", "how much", "cost".
The same lexicon reads knowledge sentences ("costs 45,000 rubles", "стоит 45 000 ₽"), so a
question and the sentence that answers it meet on the concept even when they share no word.
Words are compared by their Snowball stems (``text.stem``), phrases as runs of stems; a few
concepts are also recognised by the shape of the text (a price by a currency amount, a
schedule by a date or a clock time, a phone by a number).

The lexicon is general support vocabulary, written once for every tenant (tours, rentals,
shops); it names no tenant's products. ``FILLERS`` are chat words that carry no topic
("wondering", "подскажите"): a question word the knowledge base does not know is evidence
that the question is about something the business does not offer, unless it is one of
these.

Transliteration: customers type Russian in Latin letters ("skolko stoit altai");
:func:`to_cyrillic` spells such a word in Cyrillic so it can be matched (approximately:
the caller compares the result with known words by edit distance).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from frontline.ai.offline.text import stem


def _w(text: str) -> list[str]:
    """The words of a space-separated list."""
    return text.split()


# concept -> words and phrases (space-separated words make a phrase)
_CONCEPTS: dict[str, list[str]] = {
    "price": [
        *_w(
            "цена цены ценник стоимость стоит стоят стоить почем прайс дорого дешево рублей руб "
            "тариф процент процентов процента price prices pricing cost costs costing fee fees "
            "rate rates expensive cheap rubles roubles rub percent percentage"
        ),
        "сколько стоит",
        "сколько будет",
        "how much",
    ],
    "schedule": [
        *_w(
            "когда расписание дата даты заезд заезды выезд отправление отправляется выезжает "
            "начинается старт понедельник вторник среда четверг пятница суббота воскресенье "
            "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь "
            "летом зимой весной осенью "
            "when schedule date dates departure departures depart departs leave leaves start "
            "starts monday tuesday wednesday thursday friday saturday sunday january february "
            "march april may june july august september october november december summer winter"
        ),
        "во сколько",
        "what time",
        "what day",
        "what dates",
    ],
    "refund": [
        *_w(
            "возврат вернуть вернут возвращается возвращаем отмена отменить отменю отмене "
            "отказаться отказ передумал "
            "refund refunds refunded cancel cancelled canceled cancelling cancellation "
            "reimburse"
        ),
        "money back",
        "change my mind",
        "вернуть деньги",
        "вернут деньги",
    ],
    "deposit": [
        *_w(
            "предоплата предоплату аванс задаток залог депозит внести "
            "deposit prepayment prepay advance upfront"
        ),
        "down payment",
        "pay in advance",
    ],
    "discount": _w(
        "скидка скидки скидку скидок дешевле акция льгота промокод "
        "discount discounts cheaper reduction reduced promo deal deals"
    ),
    "duration": [
        *_w("длится длительность продолжительность duration lasts"),
        "how long",
        "how many days",
        "how many hours",
        "сколько дней",
        "сколько длится",
        "сколько часов",
    ],
    "age": [
        *_w(
            "возраст возрастные лет летний ребенок ребенку дети детям детей подросток школьник "
            "age ages aged old child children kid kids teen teenager minimum"
        ),
        "years old",
        "how old",
    ],
    "experience": _w(
        "опыт опыта новичок новичкам умею умеем навыки подготовка подготовки верховой "
        "experience experienced beginner beginners novice skills skill ridden ride riding "
        "fitness"
    ),
    "bring": [
        *_w(
            "взять брать собой вещи одежда одежду снаряжение собрать упаковать "
            "bring pack packing gear clothes clothing luggage equipment"
        ),
        "с собой",
        "take with",
        "what to take",
    ],
    "hours": [
        *_w(
            "работает работаете работаем график открыт открыты офис часы "
            "hours open opening closes closed office"
        ),
        "часы работы",
        "working hours",
        "business hours",
        "office hours",
    ],
    "phone": _w(
        "телефон телефона номер позвонить звонить контакты контакт связаться "
        "phone telephone call number contact contacts"
    ),
    "payment": [
        *_w(
            "оплата оплатить оплачу платить заплатить карта картой карты перевод переводом "
            "pay paying paid payment payments card cards transfer"
        ),
        "bank transfer",
        "credit card",
    ],
    "confirm": _w(
        "подтверждение подтвердить подтвердите подтверждаете подтверждаем подтвержден "
        "confirm confirms confirmed confirmation"
    ),
    "book": _w(
        "бронь брони бронирование бронировать забронировать записаться запись заказать "
        "book booking bookings reserve reservation"
    ),
    "included": [
        *_w("входит входят включено включены включает include includes included including"),
        "в цену",
        "в стоимость",
    ],
    "pets": _w(
        "собака собаку собакой собак пес животное животные животными питомец питомцем кошка "
        "dog dogs pet pets animal animals cat cats puppy"
    ),
    "visa": _w("виза визы визу паспорт паспорта visa visas passport"),
    "group": [
        *_w("группа группы группе группам группой group groups"),
        "сколько человек",
        "how many people",
    ],
    "flights": _w(
        "авиабилет авиабилеты авиабилета перелет самолет билеты "
        "flight flights airfare plane tickets"
    ),
    "meals": _w("питание еда кормят завтрак meals meal food breakfast lunch dinner"),
    "stay": _w(
        "проживание жить живем ночевать гостевой отель гостиница "
        "accommodation stay hotel guesthouse lodging sleep"
    ),
}
# Text shapes that show a concept in a knowledge sentence.
_MONTHS = (
    r"(?:январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*"
)
_WEEKDAYS = (
    r"понедельник\w*|вторник\w*|сред[аиу]|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*|"
    r"mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?"
)
# Text shapes that show a concept's *value* in a knowledge sentence: an amount of money or
# a share, a date or a clock time, a phone number. For these concepts a sentence that only
# names the concept ("prices vary") does not answer the question.
_COUNTS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|a few|several|"
    r"один|одну|одного|два|две|двух|три|трех|четыре|пять|шесть|семь|восемь|девять|десять|"
    r"несколько"
)
_UNITS = (
    r"дн|день|ноч|час|недел|месяц|минут|год|лет\b|"
    r"days?\b|nights?\b|hours?\b|weeks?\b|months?\b|minutes?\b|years?\b"
)
_AMOUNT = re.compile(r"\d[\d\s.,]*\s*(?:₽|руб|rub|рубл|€|\$|eur|usd|euro|%)", re.IGNORECASE)
_SHAPES: dict[str, re.Pattern[str]] = {
    "price": re.compile(
        r"\d[\d\s.,]*\s*(?:₽|руб|rub|рубл|€|\$|eur|usd|euro|%)|\bfree\b|бесплатн",
        re.IGNORECASE,
    ),
    "schedule": re.compile(
        rf"\b\d{{1,2}}:\d{{2}}\b|\b\d{{1,2}}\s+(?:{_MONTHS})|\b(?:{_MONTHS})\s+\d{{1,2}}\b|"
        rf"\b(?:{_WEEKDAYS})\b"
        # a year (not the start of an amount)
        r"|\b(?:1[0-9]|20)\d\d\b(?![\s.,]*\d|\s*(?:₽|руб|rub|€|\$|%))",
        re.IGNORECASE,
    ),
    "phone": re.compile(r"\+?\d[\d\s()-]{8,}\d"),
    # an amount to pay up front or off: money or a share
    "deposit": _AMOUNT,
    "discount": _AMOUNT,
    # a length of time: a count of days, nights, hours, weeks
    "duration": re.compile(
        rf"\b(?:\d+(?:[.,]\d+)?|{_COUNTS})\s+(?:[^\W\d]+\s+)?(?:{_UNITS})",
        re.IGNORECASE,
    ),
}
VALUE_CONCEPTS = frozenset(_SHAPES)
# Concepts that are things with an amount (a deposit, a discount): asked alone or with a
# price, the amount is asked for; beside another concept the thing is only named.
AMOUNT_OF = frozenset(["deposit", "discount"])

# Chat words that carry no topic: unknown to a knowledge base, they are not evidence that a
# question is about something else.
FILLERS = frozenset(
    _w(
        "подскажите скажите расскажите пожалуйста пж плиз интересует интересно узнать "
        "уточнить уточните вопрос информация информацию хотелось хотел хотела хочу бы можно "
        "нужно надо ли вы у вас есть какой какая какие какое каков сколько как где когда "
        "что это тот такой ребята добрый день здравствуйте привет спасибо а и или ну вот "
        "скажи подскажи тур тура туре туры туров туру поход похода походе поездка поездку "
        "поездке путешествие "
        "wondering wonder interested curious question questions info information details "
        "detail kindly guys hello hi hey thanks thank please tell know want like need "
        "what which when where how who why is are do does the a an i you we my your our "
        "there any some about much many tour tours trip trips journey travel "
        "деньги денег проблема проблем вопросы быстро скоро долго вообще обязательно точно "
        "тоже еще уже никогда всегда туда сюда там тут здесь нормально хорошо возможно "
        "money problem problems issue quick quickly fast soon long possible okay ok fine sure "
        "help way thing anything something mean look find good great nice still already ever "
        "never really actually maybe perhaps exactly also even lot bit little here there"
    )
)

_TRANSLIT_MULTI = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("ts", "ц"),
    ("tz", "ц"),
    ("ya", "я"),
    ("ja", "я"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("yo", "е"),
    ("ye", "е"),
    ("iy", "ий"),
    ("ij", "ий"),
    ("yy", "ый"),
)
_TRANSLIT_ONE = dict(
    zip(
        "abvgdezijklmnoprstufhcwxqy'",
        [
            "а",
            "б",
            "в",
            "г",
            "д",
            "е",
            "з",
            "и",
            "й",
            "к",
            "л",
            "м",
            "н",
            "о",
            "п",
            "р",
            "с",
            "т",
            "у",
            "ф",
            "х",
            "к",
            "в",
            "кс",
            "к",
            "ы",
            "ь",
        ],
        strict=True,
    )
)
_VOWELS = set("aeiouy")


@lru_cache(maxsize=8192)
def to_cyrillic(word: str) -> str:
    """A Latin-letter word spelled in Cyrillic (Russian transliteration, approximate):
    ``skolko`` -> ``сколко``, ``altai`` -> ``алтай``, ``tsena`` -> ``цена``."""
    word = word.lower()
    out: list[str] = []
    i = 0
    while i < len(word):
        for latin, cyrillic in _TRANSLIT_MULTI:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            ch = word[i]
            if ch in "iy" and i > 0 and word[i - 1] in _VOWELS:
                out.append("й")  # "altai", "altay", "chai"
            else:
                out.append(_TRANSLIT_ONE.get(ch, ch))
            i += 1
    return "".join(out)


def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in phrase.split())


_SINGLE: dict[str, set[str]] = {}
_PHRASES: list[tuple[tuple[str, ...], str]] = []
for _concept, _entries in _CONCEPTS.items():
    for _entry in _entries:
        _key = _stems(_entry)
        if len(_key) == 1:
            _SINGLE.setdefault(_key[0], set()).add(_concept)
        else:
            _PHRASES.append((_key, _concept))

# every word the lexicon knows (a typo is corrected towards these too)
LEXICON_WORDS: frozenset[str] = frozenset(
    w for entries in _CONCEPTS.values() for entry in entries for w in entry.split()
)
CONCEPTS: tuple[str, ...] = tuple(_CONCEPTS)


def concepts(stems: Sequence[str]) -> frozenset[str]:
    """The concepts named by a run of word stems. A phrase's words name only the phrase's
    concept ("входит в стоимость" is about what is included, not about a price)."""
    found: set[str] = set()
    used: set[int] = set()
    if len(stems) > 1:
        for key, concept in _PHRASES:
            n = len(key)
            for start in range(len(stems) - n + 1):
                if tuple(stems[start : start + n]) == key:
                    found.add(concept)
                    used.update(range(start, start + n))
    for position, s in enumerate(stems):
        if position not in used:
            found |= _SINGLE.get(s, set())
    return frozenset(found)


def values(text: str) -> frozenset[str]:
    """The concepts whose value ``text`` shows (see ``_SHAPES``)."""
    return frozenset(concept for concept, shape in _SHAPES.items() if shape.search(text))


def phrase_stems(stems: Sequence[str]) -> set[str]:
    """The stems of ``stems`` that belong to a lexicon phrase or word (they are explained
    by the concept, not by the knowledge base's vocabulary)."""
    known = {s for s in stems if s in _SINGLE}
    joined = " " + " ".join(stems) + " "
    for key, _concept in _PHRASES:
        if " " + " ".join(key) + " " in joined:
            known.update(key)
    return known


def synonyms(concept_names: Sequence[str], cyrillic: bool, latin: bool) -> list[str]:
    """The single words of ``concept_names`` in the scripts asked for (a search query is
    expanded with them, so a passage that says "предоплата" is found for "аванс")."""
    out: list[str] = []
    for concept in concept_names:
        for entry in _CONCEPTS.get(concept, ()):
            if " " in entry:
                continue
            is_cyrillic = "а" <= entry[0] <= "я" or entry[0] == "ё"
            if (cyrillic and is_cyrillic) or (latin and not is_cyrillic):
                out.append(entry)
    return out
