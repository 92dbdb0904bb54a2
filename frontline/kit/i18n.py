"""Tiny message catalogue for Russian and English strings shown to people."""

from __future__ import annotations

SUPPORTED = ("ru", "en")
DEFAULT_LOCALE = "ru"

_CATALOG: dict[str, dict[str, str]] = {
    "email.default_subject": {"ru": "Ваше обращение", "en": "Your request"},
    "email.reply_prefix": {"ru": "Re: ", "en": "Re: "},
}


def normalize_locale(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    short = locale.split("-")[0].split("_")[0].lower()
    return short if short in SUPPORTED else DEFAULT_LOCALE


def t(key: str, locale: str | None = None, **params: object) -> str:
    """The string ``key`` in ``locale`` (falling back to Russian, then the key itself)."""
    entry = _CATALOG.get(key)
    if entry is None:
        return key
    text = entry.get(normalize_locale(locale)) or entry.get(DEFAULT_LOCALE) or key
    return text.format(**params) if params else text
