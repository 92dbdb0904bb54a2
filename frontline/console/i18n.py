"""The console's user-interface strings in Russian and English, and choosing the language.

The language is ``?lang=ru|en`` (remembered in a cookie), else the cookie, else the
browser's ``Accept-Language``, else Russian. The templates read the strings through
:func:`translator`; the console's script gets all of them as one JSON blob
(:func:`catalogue`), so no string is ever built into HTML by concatenation.
"""

from __future__ import annotations

from collections.abc import Callable

from frontline.console.i18n_admin import ADMIN_STRINGS
from frontline.console.i18n_bookings import BOOKING_ADMIN_STRINGS
from frontline.console.i18n_channels import CHANNEL_STRINGS
from frontline.console.i18n_errors import ERROR_STRINGS
from frontline.kit.i18n import from_accept_language as from_accept_language

LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"

# key -> (Russian, English); ``{name}`` placeholders are filled by the caller
_STRINGS: dict[str, tuple[str, str]] = {
    "app.name": ("Frontline", "Frontline"),
    "app.title": ("Консоль оператора", "Operator console"),
    "lang.other": ("English", "Русский"),
    "lang.other_code": ("en", "ru"),
    "lang.label": ("Язык интерфейса", "Interface language"),
    # login
    "login.title": ("Вход в консоль", "Sign in to the console"),
    "login.email": ("E-mail", "E-mail"),
    "login.password": ("Пароль", "Password"),
    "login.submit": ("Войти", "Sign in"),
    "login.error.credentials": ("Неверный e-mail или пароль.", "Wrong e-mail or password."),
    "login.error.throttled": (
        "Слишком много неудачных попыток входа. Попробуйте позже.",
        "Too many failed sign-in attempts. Try again later.",
    ),
    "login.error.no_workspace": (
        "У этой учётной записи нет рабочего пространства.",
        "This account has no workspace.",
    ),
    "login.error.csrf": (
        "Форма устарела. Отправьте её ещё раз.",
        "The form has expired. Please submit it again.",
    ),
    # errors
    "forbidden.title": ("Нет доступа", "Access denied"),
    "forbidden.text": (
        "Консоль открыта операторам рабочего пространства. Войдите под учётной записью оператора.",
        "The console is open to a workspace's operators. Sign in with an operator account.",
    ),
    "notfound.title": ("Не найдено", "Not found"),
    "notfound.text": ("Такого разговора нет.", "There is no such conversation."),
    "nav.inbox": ("Входящие", "Inbox"),
    "nav.logout": ("Выйти", "Sign out"),
    "nav.login": ("Войти снова", "Sign in again"),
    "nav.workspace": ("Рабочее пространство", "Workspace"),
    "nav.switch": ("Перейти", "Switch"),
    "nav.signed_in_as": ("Вы вошли как {name}", "Signed in as {name}"),
    # connection, sound, handoffs
    "conn.online": ("В сети", "Online"),
    "conn.offline": ("Нет связи, переподключаемся…", "Offline, reconnecting…"),
    "sound.on": ("Звук: вкл.", "Sound: on"),
    "sound.off": ("Звук: выкл.", "Sound: off"),
    "handoff.badge": ("Новые запросы оператора", "New handoffs"),
    "handoff.announce": (
        "Клиент ждёт оператора: {subject}",
        "A customer waits for an operator: {subject}",
    ),
    # inbox
    "inbox.title": ("Входящие", "Inbox"),
    "tabs.label": ("Очереди", "Queues"),
    "tabs.pending": ("Ожидают", "Pending"),
    "tabs.mine": ("Мои", "Mine"),
    "tabs.all": ("Все", "All"),
    "filters.label": ("Фильтры", "Filters"),
    "filter.channel": ("Канал", "Channel"),
    "filter.status": ("Статус", "Status"),
    "filter.priority": ("Приоритет", "Priority"),
    "filter.category": ("Категория", "Category"),
    "filter.tag": ("Метка", "Tag"),
    "filter.search": ("Поиск", "Search"),
    "filter.any": ("Все", "Any"),
    "inbox.empty": ("Разговоров нет.", "No conversations."),
    "inbox.more": ("Показать ещё", "Load more"),
    "inbox.loading": ("Загрузка…", "Loading…"),
    # moderation before the AI (frontline.ai.moderation): verdicts and reason codes
    "moderation.flag": ("Отмечено модерацией", "Flagged by moderation"),
    "moderation.hold": ("Задержано модерацией", "Held by moderation"),
    "moderation.rule.profanity": ("мат", "profanity"),
    "moderation.rule.flood": ("флуд", "flood"),
    "moderation.rule.spam": ("повторы (спам)", "repeated spam"),
    "moderation.rule.link_only": ("только ссылки", "links only"),
    "status.bot": ("У ИИ", "With the AI"),
    "status.pending": ("Ждёт оператора", "Waiting for an operator"),
    "status.open": ("В работе", "Open"),
    "status.resolved": ("Решён", "Resolved"),
    "priority.low": ("Низкий", "Low"),
    "priority.normal": ("Обычный", "Normal"),
    "priority.high": ("Высокий", "High"),
    "priority.urgent": ("Срочный", "Urgent"),
    # conversation
    "conv.untitled": ("Разговор №{id}", "Conversation #{id}"),
    "conv.none_selected": ("Выберите разговор в списке.", "Select a conversation in the list."),
    "conv.contact": ("Клиент", "Customer"),
    "conv.channel": ("Канал", "Channel"),
    "channel.type.web": ("Веб-чат", "Web chat"),
    "channel.type.email": ("E-mail", "E-mail"),
    "channel.type.api": ("API", "API"),
    "channel.type.telegram": ("Telegram", "Telegram"),
    "channel.type.whatsapp": ("WhatsApp", "WhatsApp"),
    "channel.type.avito": ("Авито", "Avito"),
    "channel.type.mailbox": ("Почта", "Mailbox"),
    "conv.assignee": ("Исполнитель", "Assignee"),
    "conv.unassigned": ("Не назначен", "Unassigned"),
    "conv.actions": ("Действия", "Actions"),
    "conv.history": ("История разговора", "Conversation history"),
    "conv.close": ("Закрыть", "Close"),
    "action.accept": ("Принять", "Accept"),
    "action.transfer": ("Передать", "Transfer"),
    "action.transfer_to": ("Передать сотруднику", "Transfer to"),
    "action.handback": ("Вернуть ИИ", "Hand back to the AI"),
    "action.resolve": ("Решён", "Resolve"),
    "field.status": ("Статус", "Status"),
    "field.priority": ("Приоритет", "Priority"),
    "field.category": ("Категория", "Category"),
    "field.no_category": ("Без категории", "No category"),
    "field.tags": ("Метки", "Tags"),
    "field.add_tag": ("Добавить метку…", "Add a tag…"),
    "field.no_tags": ("Меток нет", "No tags"),
    "field.remove_tag": ("Снять метку «{name}»", "Remove tag “{name}”"),
    "contact.ai": ("ИИ отвечает этому клиенту", "The AI answers this customer"),
    "contact.anonymous": ("Клиент без имени", "Unnamed customer"),
    "contact.visitor": ("Посетитель сайта #{id}", "Website visitor #{id}"),
    # the AI's view
    "ai.panel": ("Разбор ИИ", "The AI's view"),
    "ai.summary": ("Суть обращения", "Summary"),
    "ai.decision": ("Решение", "Decision"),
    "ai.citations": ("Источники (фрагменты базы знаний)", "Sources (knowledge passages)"),
    "ai.language": ("Язык клиента", "Customer's language"),
    "ai.name": ("Имя клиента", "Customer's name"),
    "ai.handoff_reason": ("Причина передачи", "Handoff reason"),
    "ai.none": ("ИИ ещё не разбирал этот разговор.", "The AI has not looked at this yet."),
    "ai.draft": ("Черновик ответа ИИ", "The AI's draft reply"),
    "action.insert_draft": ("Вставить черновик", "Insert draft"),
    "decision.full_answer": ("Полный ответ", "Full answer"),
    "decision.need_more_info": ("Нужны уточнения", "Needs more information"),
    "decision.escalate_to_human": ("Передать оператору", "Hand to an operator"),
    # messages
    "sender.contact": ("Клиент", "Customer"),
    "sender.ai": ("ИИ", "AI"),
    "sender.operator": ("Оператор", "Operator"),
    "sender.system": ("Система", "System"),
    "msg.note": ("Внутренняя заметка", "Internal note"),
    "msg.suggestion": ("Черновик ИИ, не отправлен", "AI draft, not sent"),
    "msg.streaming": ("ИИ пишет…", "The AI is writing…"),
    "file.open": ("Открыть {name}", "Open {name}"),
    "file.pending": ("{name}: загружается…", "{name}: loading…"),
    "file.failed": ("{name}: файл не получен", "{name}: file not received"),
    "file.bytes": ("{n} Б", "{n} B"),
    "file.kb": ("{n} КБ", "{n} KB"),
    "file.mb": ("{n} МБ", "{n} MB"),
    "delivery.queued": ("в очереди", "queued"),
    "delivery.sent": ("отправлено", "sent"),
    "delivery.failed": ("не доставлено", "not delivered"),
    "delivery.sending": ("отправляется", "sending"),
    "delivery.unknown": ("доставка неизвестна", "delivery unknown"),
    "delivery.unknown_help": (
        "Отправка прервалась после передачи сообщения в канал, и канал не подтвердил его: "
        "возможно, клиент его получил, а возможно, нет. Само оно повторно не отправляется, "
        "чтобы клиент не получил его дважды. Уточните у клиента или отправьте ещё раз.",
        "The send was interrupted after the message was handed to the channel, and the "
        "channel did not confirm it: the customer may or may not have received it. It is not "
        "sent again by itself, so that the customer does not get it twice. Check with the "
        "customer or resend it.",
    ),
    "delivery.resend": ("Отправить ещё раз", "Resend"),
    "error.message_not_unknown": (
        "Это сообщение уже не в неизвестном состоянии доставки: повторная отправка не нужна.",
        "This message's delivery is no longer unknown: there is nothing to resend.",
    ),
    "conv.avito_item": ("объявление № {id}", "listing No. {id}"),
    "delivery.delivered": ("доставлено", "delivered"),
    "delivery.read": ("прочитано", "read"),
    "error.whatsapp_window_closed": (
        "WhatsApp не принимает ответ: клиент писал больше 24 часов назад. Ответить можно, "
        "когда клиент напишет снова.",
        "WhatsApp refuses the reply: the customer last wrote more than 24 hours ago. You can "
        "reply once the customer writes again.",
    ),
    "typing.ai": ("ИИ готовит ответ…", "The AI is preparing a reply…"),
    "typing.contact": ("Клиент печатает…", "The customer is typing…"),
    "typing.operator": ("{name} печатает…", "{name} is typing…"),
    "reply.label": ("Ответ клиенту", "Reply to the customer"),
    "reply.send": ("Отправить", "Send"),
    "reply.hint": ("Ctrl+Enter — отправить", "Ctrl+Enter to send"),
    "canned.pick": ("Шаблон ответа…", "Canned reply…"),
    "canned.none": ("Шаблонов ответов нет", "No canned replies"),
    "note.label": (
        "Внутренняя заметка (клиент её не увидит)",
        "Internal note (not shown to the customer)",
    ),
    "note.add": ("Добавить заметку", "Add note"),
    "error.generic": ("Не получилось: {message}", "Failed: {message}"),
    "error.network": ("Сервер недоступен.", "The server cannot be reached."),
    "error.session": ("Сессия истекла. Войдите снова.", "The session has expired. Sign in again."),
    # bookings (frontline/console/bookings_pages.py, static/console/bookings*.js)
    "nav.bookings": ("Бронирования", "Bookings"),
    "bookings.title": ("Бронирования", "Bookings"),
    "bookings.list": ("Список", "List"),
    "bookings.calendar": ("Календарь", "Calendar"),
    "bookings.empty": ("Бронирований нет.", "No bookings."),
    "bookings.loading": ("Загрузка…", "Loading…"),
    "bookings.resource": ("Ресурс", "Resource"),
    "bookings.status": ("Статус", "Status"),
    "bookings.any": ("Любой", "Any"),
    "bookings.when": ("Даты", "Dates"),
    "bookings.guests": ("Гости", "Guests"),
    "bookings.customer": ("Клиент", "Customer"),
    "bookings.price": ("Стоимость", "Price"),
    "bookings.hold": ("Держится до", "Held until"),
    "bookings.reason": ("Причина отказа", "Reason"),
    "bookings.confirm": ("Подтвердить", "Confirm"),
    "bookings.reject": ("Отклонить", "Reject"),
    "bookings.save": ("Сохранить", "Save"),
    "bookings.edit": ("Изменить", "Edit"),
    "bookings.adults": ("Взрослые", "Adults"),
    "bookings.children": ("Дети", "Children"),
    "bookings.name": ("Имя", "Name"),
    "bookings.phone": ("Телефон", "Phone"),
    "bookings.email": ("E-mail", "E-mail"),
    "bookings.notes": ("Заметки", "Notes"),
    "bookings.conversation": ("Диалог", "Conversation"),
    "bookings.select": ("Выберите бронирование.", "Select a booking."),
    "bookings.reason_required": ("Укажите причину отказа.", "Give a reason for the rejection."),
    "bookings.done.confirmed": ("Бронирование подтверждено.", "Booking confirmed."),
    "bookings.done.rejected": ("Бронирование отклонено.", "Booking rejected."),
    "bookings.done.saved": ("Изменения сохранены.", "Changes saved."),
    "bookings.month": ("Месяц", "Month"),
    "bookings.week": ("Неделя", "Week"),
    "bookings.prev": ("Назад", "Previous"),
    "bookings.next": ("Вперёд", "Next"),
    "bookings.panel": ("Бронирования клиента", "Customer's bookings"),
    "bookings.panel_empty": (
        "В этом диалоге бронирований нет.",
        "No bookings in this conversation.",
    ),
    "booking.status.pending": ("ожидает", "pending"),
    "booking.status.confirmed": ("подтверждено", "confirmed"),
    "booking.status.rejected": ("отклонено", "rejected"),
    "booking.status.expired": ("истекло", "expired"),
    "booking.status.cancelled": ("отменено", "cancelled"),
}
_STRINGS.update(ADMIN_STRINGS)
_STRINGS.update(BOOKING_ADMIN_STRINGS)
_STRINGS.update(CHANNEL_STRINGS)
_STRINGS.update(ERROR_STRINGS)


# the copilot panel (templates/copilot.html, static/console/copilot.js)
_STRINGS.update(
    {
        "copilot.title": ("Копилот", "Copilot"),
        "copilot.summary": ("Кратко о разговоре", "The conversation so far"),
        "copilot.summary_none": (
            "Сводка появится, когда разговор передадут оператору.",
            "A summary appears when the conversation is handed to a person.",
        ),
        "copilot.needs": ("Что ещё нужно клиенту", "What the customer still needs"),
        "copilot.summarize": ("Обновить сводку", "Summarize again"),
        "copilot.suggest": ("Предложить ответ", "Suggest a reply"),
        "copilot.passages": ("Использованные фрагменты базы знаний", "Knowledge passages used"),
        "copilot.insert": ("Вставить в ответ", "Insert into the reply"),
        "copilot.draft": ("Черновик в поле ответа", "The draft in the reply box"),
        "copilot.shorter": ("Короче", "Shorter"),
        "copilot.friendlier": ("Дружелюбнее", "Friendlier"),
        "copilot.formal": ("Официальнее", "More formal"),
        "copilot.spelling": ("Исправить ошибки", "Fix spelling"),
        "copilot.translate": ("Перевести на язык клиента", "Translate to the customer's language"),
        "copilot.undo": ("Отменить", "Undo"),
        "copilot.working": ("Копилот думает…", "The copilot is thinking…"),
        "copilot.empty_draft": (
            "Сначала напишите или вставьте черновик в поле ответа.",
            "Write or insert a draft in the reply box first.",
        ),
        "copilot.nothing": (
            "В базе знаний нет ответа на этот вопрос.",
            "The knowledge base has no answer to this.",
        ),
        "copilot.failed": ("Копилот не ответил: {message}", "The copilot failed: {message}"),
        "copilot.translated": ("Переведено: {language}", "Translated: {language}"),
        "copilot.down": (
            "Все AI-провайдеры недоступны: ответ подготовил офлайн-движок по базе знаний.",
            "Every AI provider is down: the offline engine answered from the knowledge base.",
        ),
        "copilot.unavailable": (
            "Переписать или перевести черновик может только языковая модель, а ни один "
            "провайдер не ответил. Подсказки и сводки по-прежнему работают по базе знаний.",
            "Rewriting and translating need a language model, and no provider answered. "
            "Suggestions and summaries still work from the knowledge base.",
        ),
        "copilot.preparing": (
            "Копилот готовит сводку передачи…",
            "The copilot is preparing the handoff summary…",
        ),
        # "create a booking from this chat" (copilotbooking.js)
        "copilot.book": ("Создать бронь из диалога", "Create a booking from this chat"),
        "copilot.book_resource": ("Что бронируем", "What to book"),
        "copilot.book_departure": ("Выезд", "Departure"),
        "copilot.book_starts": ("Заезд", "Check-in"),
        "copilot.book_ends": ("Выезд", "Check-out"),
        "copilot.book_adults": ("Гостей", "Guests"),
        "copilot.book_name": ("Имя", "Name"),
        "copilot.book_phone": ("Телефон", "Phone"),
        "copilot.book_email": ("E-mail", "E-mail"),
        "copilot.book_confirm": ("Сразу подтвердить", "Confirm at once"),
        "copilot.book_save": ("Создать бронь", "Create the booking"),
        "copilot.book_cancel": ("Закрыть", "Close"),
        "copilot.book_missing": (
            "В диалоге не сказано: {fields}. Проверьте и заполните.",
            "The chat does not say: {fields}. Check and fill in.",
        ),
        "copilot.book_complete": (
            "Форма заполнена из диалога — проверьте перед сохранением.",
            "Filled in from the chat: check it before saving.",
        ),
        "copilot.book_created": (
            "Бронь №{id} создана: {status}.",
            "Booking #{id} created: {status}.",
        ),
        "copilot.book_choose": ("— выберите —", "— choose —"),
        "copilot.book_none": ("нет выездов", "no departures"),
        "copilot.missing.resource": ("что бронировать", "what to book"),
        "copilot.missing.date": ("дата", "the date"),
        "copilot.missing.end_date": ("дата выезда", "the check-out date"),
        "copilot.missing.departure": ("выезд на эту дату", "a departure on that date"),
        "copilot.missing.people": ("число гостей", "the number of guests"),
        "copilot.missing.name": ("имя", "the name"),
        "copilot.missing.contact": ("телефон или e-mail", "a phone or an e-mail"),
        # the contact's profile (templates/contact_profile.html, contactpanel.js)
        "profile.title": ("Профиль клиента", "Customer profile"),
        "profile.user": ("Вошёл на сайте как {id}", "Signed in on the site as {id}"),
        "profile.attributes": ("Атрибуты", "Attributes"),
        "profile.none": ("Атрибутов пока нет.", "No attributes yet."),
        "profile.key": ("ключ", "key"),
        "profile.value": ("значение", "value"),
        "profile.save": ("Сохранить", "Save"),
        "profile.yes": ("да", "yes"),
        "profile.no": ("нет", "no"),
        "profile.history": ("Разговоры клиента", "The customer's conversations"),
        "profile.bookings": ("Бронирования клиента", "The customer's bookings"),
        "profile.no_bookings": ("Бронирований нет.", "No bookings."),
        "profile.this": ("этот", "this one"),
        "profile.merge_label": (
            "Объединить с контактом (ID):",
            "Merge another contact into this one (ID):",
        ),
        "profile.merge": ("Объединить", "Merge"),
        "profile.merged": ("Контакты объединены.", "The contacts were merged."),
    }
)


def normalize(locale: str | None) -> str | None:
    """``ru`` or ``en`` for a language tag (``en-GB`` -> ``en``), else ``None``."""
    if not locale:
        return None
    short = locale.strip().split("-")[0].split("_")[0].lower()
    return short if short in LOCALES else None


def text(key: str, locale: str, **params: object) -> str:
    """The string ``key`` in ``locale`` (the key itself when unknown)."""
    entry = _STRINGS.get(key)
    if entry is None:
        return key
    value = entry[1] if locale == "en" else entry[0]
    return value.format(**params) if params else value


def translator(locale: str) -> Callable[..., str]:
    def t(key: str, **params: object) -> str:
        return text(key, locale, **params)

    return t


def catalogue(locale: str) -> dict[str, str]:
    """Every string in ``locale``, for the console's script."""
    index = 1 if locale == "en" else 0
    return {key: pair[index] for key, pair in _STRINGS.items()}
