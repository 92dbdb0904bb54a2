"""The console's words for what the API refuses, Russian and English: an error's ``code``
(``error.<code>``), a validation problem's ``type`` with its limits (``error.field.<type>``,
``{le}`` and the like from the error's ``ctx``), and why a knowledge document could not be
read (``admin.kb.failure.<code>``, the parser's ``DocumentError`` codes). The API's own
English message is shown only for what has no entry here."""

from __future__ import annotations

ERROR_STRINGS: dict[str, tuple[str, str]] = {
    # error codes (frontline.errors and the domains' own)
    "error.forbidden": (
        "Это действие доступно только владельцу и администраторам.",
        "Only the owner and admins may do this.",
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
}
