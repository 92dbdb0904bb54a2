"""The console's words for what the API refuses, Russian and English: an error's ``code``
(``error.<code>``), a validation problem's ``type`` with its limits (``error.field.<type>``,
``{le}`` and the like from the error's ``ctx``), and why a knowledge document could not be
read (``admin.kb.failure.<code>``, the parser's ``DocumentError`` codes). The API's own
English message is shown only for what has no entry here. Also the audit log's actions
(``admin.audit.do.<action>``), shown by name in the reader's language."""

from __future__ import annotations

ERROR_STRINGS: dict[str, tuple[str, str]] = {
    # error codes (frontline.errors and the domains' own)
    "error.forbidden": ("Недостаточно прав для этого действия.", "You are not allowed to do this."),
    "error.role_above_own": (
        "Нельзя назначать или менять роль выше своей.",
        "You cannot give or change a role above your own.",
    ),
    "error.last_owner": (
        "У рабочего пространства должен остаться хотя бы один владелец.",
        "The workspace must keep at least one owner.",
    ),
    "error.already_member": (
        "Этот пользователь уже в команде.",
        "This user is already on the team.",
    ),
    "error.telegram_taken": (
        "Этот пользователь Telegram уже привязан к другому сотруднику.",
        "This Telegram user is linked to another member.",
    ),
    "error.payload_too_large": ("Файл слишком большой.", "The file is too large."),
    "error.unsupported_type": (
        "Такой тип файла не поддерживается: загрузите PDF, DOCX, HTML, Markdown или текст.",
        "This file type is not supported: upload PDF, DOCX, HTML, Markdown or text.",
    ),
    "error.empty_file": ("Файл пустой.", "The file is empty."),
    "error.corrupt_file": (
        "Файл повреждён и не читается.",
        "The file is damaged and cannot be read.",
    ),
    "error.knowledge_base_full": (
        "База знаний заполнена: удалите документы, чтобы освободить место.",
        "The knowledge base is full: delete documents to make room.",
    ),
    "error.plan_limit_reached": (
        "Достигнут лимит тарифа рабочего пространства — обратитесь к администратору платформы.",
        "The workspace's plan limit is reached: ask the platform administrator.",
    ),
    "error.tenant_suspended": (
        "Рабочее пространство приостановлено администратором платформы.",
        "The workspace is suspended by the platform administrator.",
    ),
    "error.range_end_before_start": (
        "Конец периода раньше начала.",
        "The end of the range is before its start.",
    ),
    "error.range_too_long": ("Период слишком длинный.", "The range is too long."),
    # validation problems by type (pydantic's types; {…} from the error's ctx)
    "error.field.missing": ("Обязательное поле.", "Required."),
    "error.field.less_than_equal": ("Не больше {le}.", "At most {le}."),
    "error.field.greater_than_equal": ("Не меньше {ge}.", "At least {ge}."),
    "error.field.less_than": ("Меньше {lt}.", "Less than {lt}."),
    "error.field.greater_than": ("Больше {gt}.", "More than {gt}."),
    "error.field.string_too_short": (
        "Слишком коротко: не меньше {min_length} символов.",
        "Too short: at least {min_length} characters.",
    ),
    "error.field.string_too_long": (
        "Слишком длинно: не больше {max_length} символов.",
        "Too long: at most {max_length} characters.",
    ),
    "error.field.too_short": (
        "Слишком мало: не меньше {min_length}.",
        "Too few: at least {min_length}.",
    ),
    "error.field.too_long": (
        "Слишком много: не больше {max_length}.",
        "Too many: at most {max_length}.",
    ),
    "error.field.int_parsing": ("Нужно целое число.", "A whole number is needed."),
    "error.field.int_from_float": ("Нужно целое число.", "A whole number is needed."),
    "error.field.float_parsing": ("Нужно число.", "A number is needed."),
    "error.field.bool_parsing": ("Нужно «да» или «нет».", "Yes or no is needed."),
    "error.field.enum": ("Допустимые значения: {expected}.", "Allowed values: {expected}."),
    "error.field.literal_error": (
        "Допустимые значения: {expected}.",
        "Allowed values: {expected}.",
    ),
    "error.field.url_parsing": ("Это не адрес URL.", "This is not a URL."),
    "error.field.url_scheme": (
        "Адрес должен начинаться с http:// или https://.",
        "The URL must start with http:// or https://.",
    ),
    "error.field.date_from_datetime_parsing": ("Это не дата.", "This is not a date."),
    "error.field.date_parsing": ("Это не дата.", "This is not a date."),
    "error.field.uuid_parsing": ("Неверный идентификатор.", "Not a valid id."),
    "error.field.string_pattern_mismatch": ("Неверный формат.", "Wrong format."),
    "error.field.extra_forbidden": ("Неизвестное поле.", "Unknown field."),
    "error.field.range_end_before_start": (
        "Конец периода раньше начала.",
        "The end of the range is before its start.",
    ),
    # why a document could not be read (frontline.knowledge.parsing.base.ErrorCode)
    "admin.kb.failure.empty": ("в файле нет данных", "the file has no content"),
    "admin.kb.failure.no_text": (
        "в документе не найден текст (например, PDF из одних сканов или пустой)",
        "no text found in the document (a PDF of scans only, or an empty one)",
    ),
    "admin.kb.failure.corrupt": (
        "файл повреждён и не читается",
        "the file is damaged and cannot be read",
    ),
    "admin.kb.failure.encrypted": (
        "документ защищён паролем",
        "the document is protected by a password",
    ),
    "admin.kb.failure.too_large": ("документ слишком большой", "the document is too large"),
    "admin.kb.failure.too_many_pages": (
        "в документе слишком много страниц",
        "the document has too many pages",
    ),
    "admin.kb.failure.zip_bomb": (
        "архив внутри файла распаковывается в слишком большой объём",
        "the file unpacks to far too much data",
    ),
    "admin.kb.failure.unsupported": (
        "такой тип файла не поддерживается",
        "this file type is not supported",
    ),
    "admin.kb.failure.ingestion": ("обработка не удалась", "processing failed"),
    # the audit log's actions (frontline.audit: every audit.record call)
    "admin.audit.do.ai_settings.update": ("Изменены настройки ИИ", "AI settings changed"),
    "admin.audit.do.api_keys.create": ("Создан API-ключ", "API key created"),
    "admin.audit.do.api_keys.revoke": ("Отозван API-ключ", "API key revoked"),
    "admin.audit.do.auth.login_locked": (
        "Вход временно заблокирован",
        "Sign-in locked for a while",
    ),
    "admin.audit.do.auth.unlocked": ("Вход разблокирован", "Sign-in unlocked"),
    "admin.audit.do.channels.create": ("Создан канал", "Channel created"),
    "admin.audit.do.channels.rotate_secret": ("Заменён секрет канала", "Channel secret replaced"),
    "admin.audit.do.channels.update": ("Изменён канал", "Channel changed"),
    "admin.audit.do.members.add": ("Добавлен сотрудник", "Member added"),
    "admin.audit.do.members.remove": ("Удалён сотрудник", "Member removed"),
    "admin.audit.do.members.role": ("Изменена роль", "Role changed"),
    "admin.audit.do.platform.limits": ("Изменены лимиты тарифа", "Plan limits changed"),
    "admin.audit.do.platform.resume": ("Работа возобновлена", "Workspace resumed"),
    "admin.audit.do.platform.suspend": ("Пространство приостановлено", "Workspace suspended"),
    "admin.audit.do.platform.tenant_create": ("Создано рабочее пространство", "Workspace created"),
}
