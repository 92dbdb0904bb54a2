"""What the Telegram bots say to customers and operators, in Russian and English."""

from __future__ import annotations

from frontline.kit.i18n import DEFAULT_LOCALE, normalize_locale

_TEXTS: dict[str, dict[str, str]] = {
    "csat.ask": {
        "ru": "Вопрос решён. Оцените, пожалуйста, нашу помощь: 1 — плохо, 5 — отлично.",
        "en": "Your request is resolved. Please rate our help: 1 is poor, 5 is excellent.",
    },
    "welcome": {
        "ru": "Здравствуйте! Напишите ваш вопрос — я отвечу сразу, а если понадобится, "
        "подключу сотрудника.",
        "en": "Hello! Write your question and I will answer right away, or bring in a "
        "person if needed.",
    },
    "csat.thanks": {"ru": "Спасибо за оценку!", "en": "Thank you for your rating!"},
    "csat.reopened": {
        "ru": "Обращение снова открыто — оценить можно после его решения.",
        "en": "The conversation is open again; you can rate it once it is resolved.",
    },
    "button.unknown": {"ru": "Кнопка больше не действует.", "en": "This button no longer works."},
    "alert.title": {"ru": "Нужен оператор", "en": "An operator is needed"},
    "alert.customer": {"ru": "Клиент", "en": "Customer"},
    "alert.channel": {"ru": "Канал", "en": "Channel"},
    "alert.reason": {"ru": "Причина", "en": "Reason"},
    "alert.summary": {"ru": "Суть (AI)", "en": "Summary (AI)"},
    "alert.open": {"ru": "Открыть в консоли", "en": "Open in the console"},
    "alert.accept": {"ru": "Принять", "en": "Accept"},
    "alert.accepted": {"ru": "Диалог назначен на вас.", "en": "The conversation is yours."},
    "alert.accepted_by": {"ru": "Принял(а): {name}", "en": "Accepted by {name}"},
    "alert.taken": {
        "ru": "Диалог уже у другого оператора.",
        "en": "Another operator already has this conversation.",
    },
    "alert.unlinked": {
        "ru": "Ваш Telegram не привязан к учётной записи оператора в Frontline.",
        "en": "Your Telegram account is not linked to a Frontline operator account.",
    },
    "alert.test": {
        "ru": "Проверка: оповещения Frontline об операторских обращениях приходят в этот чат.",
        "en": "Test: Frontline's operator alerts reach this chat.",
    },
    "alert.anonymous": {"ru": "без имени", "en": "no name"},
}


def text(key: str, locale: str | None = None, **params: object) -> str:
    entry = _TEXTS[key]
    found = entry.get(normalize_locale(locale)) or entry[DEFAULT_LOCALE]
    return found.format(**params) if params else found
