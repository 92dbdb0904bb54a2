"""Tiny message catalogue for Russian and English strings shown to people."""

from __future__ import annotations

SUPPORTED = ("ru", "en")
DEFAULT_LOCALE = "ru"

_CATALOG: dict[str, dict[str, str]] = {
    "email.default_subject": {"ru": "Ваше обращение", "en": "Your request"},
    "email.reply_prefix": {"ru": "Re: ", "en": "Re: "},
    "handoff.requested": {
        "ru": "Передаю ваш вопрос оператору — он скоро ответит здесь.",
        "en": "I'm passing your question to a person; they will answer here shortly.",
    },
    "errors.database_unavailable": {
        "ru": "Сервис временно недоступен: нет связи с базой данных. Повторите запрос позже.",
        "en": "The service is temporarily unavailable: the database cannot be reached. "
        "Please retry later.",
    },
    "handoff.no_operators": {
        "ru": (
            "Сейчас нет операторов в сети. Оставьте, пожалуйста, e-mail — мы ответим, "
            "как только сможем."
        ),
        "en": (
            "No operator is online right now. Please leave your e-mail and we will answer "
            "as soon as we can."
        ),
    },
}


def normalize_locale(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    short = locale.split("-")[0].split("_")[0].lower()
    return short if short in SUPPORTED else DEFAULT_LOCALE


def from_accept_language(header: str | None) -> str | None:
    """The supported language an ``Accept-Language`` header prefers most (``q`` weights
    respected), ``None`` when it names none of them."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        short = tag.strip().split("-")[0].split("_")[0].lower()
        if short in SUPPORTED and quality > 0:
            ranked.append((-quality, position, short))
    return min(ranked)[2] if ranked else None


def t(key: str, locale: str | None = None, **params: object) -> str:
    """The string ``key`` in ``locale`` (falling back to Russian, then the key itself)."""
    entry = _CATALOG.get(key)
    if entry is None:
        return key
    text = entry.get(normalize_locale(locale)) or entry.get(DEFAULT_LOCALE) or key
    return text.format(**params) if params else text
