"""The console's strings for channel set-up beyond the channel forms: operator alerts in
Telegram, members' Telegram accounts, per-channel delivery health (mailbox IMAP and
Telegram webhook state); Russian and English, merged into :mod:`frontline.console.i18n`."""

from __future__ import annotations

CHANNEL_STRINGS: dict[str, tuple[str, str]] = {
    # operator alerts in Telegram (channels page)
    "admin.alerts.title": ("Оповещения операторов в Telegram", "Operator alerts in Telegram"),
    "admin.alerts.help": (
        "Каждая передача разговора оператору приходит в чат сотрудников с кнопкой «Принять». "
        "Создайте бота у @BotFather, добавьте его в чат и укажите id чата.",
        "Every handoff to a person is posted to the staff chat with an “Accept” button. "
        "Create a bot with @BotFather, add it to the chat and give the chat id here.",
    ),
    "admin.alerts.bot_token": ("Токен бота", "Bot token"),
    "admin.alerts.token_kept": (
        "Сохранён — оставьте пустым, чтобы не менять",
        "Stored — leave empty to keep it",
    ),
    "admin.alerts.chat_id": ("Id чата сотрудников", "Staff chat id"),
    "admin.alerts.chat_help": (
        "Число вида -1001234567890 или @имя_канала.",
        "A number such as -1001234567890 or @channelname.",
    ),
    "admin.alerts.mode": ("Нажатия кнопок", "Button presses"),
    "admin.alerts.mode.webhook": ("Webhook (нужен публичный адрес)", "Webhook (public URL)"),
    "admin.alerts.mode.poll": (
        "Опрос (frontline telegram poll)",
        "Polling (frontline telegram poll)",
    ),
    "admin.alerts.api_base_url": ("Адрес Bot API", "Bot API URL"),
    "admin.alerts.enabled": ("Оповещения включены", "Alerts on"),
    "admin.alerts.save": ("Сохранить оповещения", "Save alerts"),
    "admin.alerts.saved": ("Оповещения сохранены.", "Alerts saved."),
    "admin.alerts.state_on": ("Включены: чат {chat}", "On: chat {chat}"),
    "admin.alerts.state_off": ("Выключены (настройки сохранены)", "Off (settings kept)"),
    "admin.alerts.state_none": ("Не настроены", "Not set up"),
    "admin.alerts.test": ("Отправить тестовое оповещение", "Send a test alert"),
    "admin.alerts.test_ok": (
        "Тестовое оповещение отправлено в чат {chat}.",
        "The test alert was sent to chat {chat}.",
    ),
    "admin.alerts.test_failed": (
        "Telegram не принял оповещение: {message}",
        "Telegram refused: {message}",
    ),
    "admin.alerts.remove": ("Удалить настройки", "Remove the settings"),
    "admin.alerts.remove_confirm": (
        "Удалить бота оповещений и id чата?",
        "Remove the alert bot and the chat id?",
    ),
    # members' Telegram accounts (team page)
    "admin.team.telegram": ("Telegram id", "Telegram id"),
    "admin.team.telegram_help": (
        "Числовой id пользователя Telegram (его покажет @userinfobot): «Принять» в "
        "оповещении назначит разговор этому участнику.",
        "The numeric Telegram user id (@userinfobot shows it): “Accept” on an alert then "
        "assigns the conversation to this member.",
    ),
    "admin.team.telegram_save": ("Привязать", "Link"),
    "admin.team.telegram_saved": ("Telegram привязан.", "Telegram linked."),
    "admin.team.telegram_unlinked": ("Telegram отвязан.", "Telegram unlinked."),
    "admin.team.telegram_invalid": (
        "Id пользователя Telegram — целое положительное число.",
        "A Telegram user id is a positive whole number.",
    ),
    # delivery health per channel (channels page)
    "admin.health.title": ("Доставка", "Delivery"),
    "admin.health.last_inbound": ("Последнее входящее", "Last inbound"),
    "admin.health.last_outbound": ("Последнее исходящее", "Last outbound"),
    "admin.health.failed": ("Сбоев за 24 ч", "Failures in 24 h"),
    "admin.health.last_failure": ("Последняя причина", "Last reason"),
    "admin.health.never": ("ещё не было", "none yet"),
    "admin.health.ok": ("Работает", "Working"),
    "admin.health.bad": ("Есть проблема", "A problem"),
    "admin.health.unknown": ("Ещё не проверялся", "Not checked yet"),
    "admin.health.imap": ("IMAP (входящая почта)", "IMAP (incoming mail)"),
    "admin.health.smtp": ("SMTP (ответы)", "SMTP (replies)"),
    "admin.health.last_poll": ("Последняя проверка", "Last check"),
    "admin.health.last_error": ("Последняя ошибка", "Last error"),
    "admin.health.stored": ("Принято писем", "Mails taken"),
    "admin.health.uidvalidity": ("UIDVALIDITY / последний UID", "UIDVALIDITY / last UID"),
    "admin.health.idle": ("Мгновенная доставка (IMAP IDLE)", "Instant delivery (IMAP IDLE)"),
    "admin.health.idle.active": ("работает", "active"),
    "admin.health.idle.unsupported": (
        "сервер не поддерживает — опрос по расписанию",
        "not supported by the server — polled on a schedule",
    ),
    "admin.health.idle.off": ("выключена — опрос по расписанию", "off — polled on a schedule"),
    "admin.health.idle.error": ("сбой — опрос по расписанию", "failing — polled on a schedule"),
    "admin.health.poll_now": ("Проверить почту сейчас", "Check mail now"),
    "admin.health.poll_queued": ("Проверка запущена.", "Check started."),
    "admin.health.telegram": ("Telegram", "Telegram"),
    "admin.health.webhook": ("Webhook", "Webhook"),
    "admin.health.webhook_expected": ("Ожидаемый адрес", "Expected URL"),
    "admin.health.webhook_none": ("не установлен", "not set"),
    "admin.health.pending": ("Ждут доставки", "Updates waiting"),
    "admin.health.telegram_error": ("Ошибка Telegram", "Telegram error"),
    "admin.health.poll_offset": ("Опрос getUpdates, смещение", "getUpdates polling, offset"),
    "admin.health.refresh": ("Обновить", "Refresh"),
}
