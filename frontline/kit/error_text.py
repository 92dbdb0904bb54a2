"""Error messages in the request's language.

Services raise errors with English messages (logs, tests and the default API language stay
English). A client that prefers Russian (``Accept-Language: ru``) gets every error body's
``message`` - and the ``message`` of each ``fields`` entry of a 422 - in Russian:

- ``EXACT``: each fixed message the code raises, translated whole;
- ``PATTERNS``: messages with values in them (a name, a limit), matched by a regular
  expression whose named groups are put into the Russian text;
- pydantic's own validation messages (``Field required``, ``String should have at most 5
  characters``), the same way;
- anything else (a provider's own words quoted in a message) gets the Russian sentence for
  its error code, with the original text after it, so no detail is lost.

``tests/kit/test_error_text.py`` walks the source and fails when a raised message has no
translation here.
"""

from __future__ import annotations

import re

EXACT: dict[str, str] = {
    "a version 2 backup is a zip archive: import the archive": (
        "резервная копия версии 2 - zip-архив: импортируйте архив"
    ),
    "the export's workspace id is not a UUID": (
        "идентификатор рабочего пространства в выгрузке - не UUID"
    ),
    # copilot
    "a draft can be rewritten only by a language model: add a provider to the AI settings "
    "(the offline engine suggests and summarizes, but does not write)": (
        "переписать черновик может только языковая модель: добавьте провайдера в настройках "
        "ИИ (офлайн-движок предлагает ответы и составляет сводки, но не пишет тексты)"
    ),
    "a draft can be translated only by a language model: add a provider to the AI settings "
    "(the offline engine suggests and summarizes, but does not write)": (
        "перевести черновик может только языковая модель: добавьте провайдера в настройках "
        "ИИ (офлайн-движок предлагает ответы и составляет сводки, но не пишет тексты)"
    ),
    "every message of the conversation is held by moderation and none is sent to a "
    "language model: answer the customer yourself": (
        "все сообщения разговора задержаны модерацией, и ни одно не передаётся языковой "
        "модели: ответьте клиенту сами"
    ),
    # framework and middleware
    "request validation failed": "запрос не прошёл проверку",
    "Not Found": "не найдено",
    "Method Not Allowed": "метод не поддерживается",
    "internal server error": "внутренняя ошибка сервера",
    "malformed JSON body": "тело запроса - не корректный JSON",
    # auth
    "wrong e-mail or password": "неверный e-mail или пароль",
    "too many failed sign-in attempts; try again later": (
        "слишком много неудачных попыток входа; попробуйте позже"
    ),
    "invalid or expired access token": "токен доступа недействителен или истёк",
    "invalid refresh token": "недействительный refresh-токен",
    "refresh token expired": "срок действия refresh-токена истёк",
    "refresh token reuse detected; please log in again": (
        "refresh-токен использован повторно; войдите заново"
    ),
    "missing bearer token": "нет токена (Authorization: Bearer ...)",
    "no access token": "нет токена доступа",
    "invalid API key": "неверный API-ключ",
    "API key not found": "API-ключ не найден",
    "user no longer exists": "пользователь больше не существует",
    "log in to a workspace": "войдите в рабочее пространство",
    "this endpoint needs a tenant; log in to a tenant first": (
        "этому запросу нужно рабочее пространство; сначала войдите в него"
    ),
    "this account has no active workspace": (
        "у этой учётной записи нет активного рабочего пространства"
    ),
    "this account has no workspace": "у этой учётной записи нет рабочего пространства",
    "access to the tenant was removed": "доступ к рабочему пространству отозван",
    "no access to that tenant": "нет доступа к этому рабочему пространству",
    "operators only": "только для операторов",
    "platform superadmin only": "только для суперадминистратора платформы",
    "no such member": "такого участника нет",
    "member not found": "участник не найден",
    "no member with that e-mail in this workspace": (
        "в этом рабочем пространстве нет участника с таким e-mail"
    ),
    "a password is required for a new user": "для нового пользователя нужен пароль",
    "this user is already a member of the tenant": "этот пользователь уже участник пространства",
    "you cannot change a role above your own": "нельзя менять роль выше вашей собственной",
    "you cannot grant a role above your own": "нельзя выдать роль выше вашей собственной",
    "you cannot remove a member above your own role": "нельзя удалить участника с ролью выше вашей",
    "the workspace's last owner cannot be removed": (
        "последнего владельца рабочего пространства удалить нельзя"
    ),
    "the workspace's last owner cannot lose the owner role": (
        "последний владелец рабочего пространства не может лишиться роли владельца"
    ),
    # tenants and platform
    "tenant not found": "рабочее пространство не найдено",
    "no such workspace": "такого рабочего пространства нет",
    "this workspace is suspended": "рабочее пространство приостановлено",
    "no demo workspace here (run `frontline demo`)": (
        "демо-пространства нет (выполните `frontline demo`)"
    ),
    "the export holds no workspace": "в выгрузке нет рабочего пространства",
    "this workspace (its id or slug) already exists in the target database": (
        "это рабочее пространство (его id или slug) уже есть в целевой базе"
    ),
    # conversations, messages, tickets
    "conversation not found": "диалог не найден",
    "message not found": "сообщение не найдено",
    "contact not found": "контакт не найден",
    "channel not found": "канал не найден",
    "category not found": "категория не найдена",
    "unknown category": "неизвестная категория",
    "tag not found": "тег не найден",
    "tag name must not be blank": "название тега не может быть пустым",
    "canned reply not found": "шаблон ответа не найден",
    "attachment not found": "вложение не найдено",
    "job not found": "задание не найдено",
    "only dead jobs can be re-queued": "повторно поставить в очередь можно только упавшие задания",
    "AI call not found": "вызов ИИ не найден",
    "the conversation is not resolved yet": "диалог ещё не решён",
    "assign the conversation to an operator to open it": (
        "чтобы открыть диалог, назначьте его оператору"
    ),
    "assignee must be a user id, 'me' or 'none'": (
        "исполнитель - это id пользователя, 'me' или 'none'"
    ),
    "the assignee is not a member of this workspace": (
        "исполнитель не состоит в этом рабочем пространстве"
    ),
    "a contact cannot be merged into itself": "контакт нельзя объединить с самим собой",
    "both contacts are identified as different users; not merged": (
        "оба контакта опознаны как разные пользователи; не объединены"
    ),
    "key: 1-50 characters a-z, 0-9 and _, starting with a letter": (
        "key: 1-50 символов a-z, 0-9 и _, начиная с буквы"
    ),
    "rating must be 1 to 5": "оценка - от 1 до 5",
    "invalid cursor": "недействительный курсор",
    "cursor: not a cursor from this API": "cursor: это не курсор этого API",
    "the query is empty": "пустой запрос",
    "the range's end is before its start": "конец периода раньше его начала",
    "the conversation has no messages yet: nothing to work from": (
        "в диалоге ещё нет сообщений: не с чем работать"
    ),
    "uploads need their uploader": "загрузке нужен её отправитель",
    "the file is empty": "файл пустой",
    # channels
    "the channel is disabled": "канал отключён",
    "Telegram channel not found": "канал Telegram не найден",
    "mailbox channel not found": "почтовый канал не найден",
    "bot_token is required": "нужен bot_token",
    "hub.verify_token does not match this channel's verify_token": (
        "hub.verify_token не совпадает с verify_token этого канала"
    ),
    "Telegram alerts are not set up: save a bot token and a chat first": (
        "оповещения в Telegram не настроены: сначала сохраните токен бота и чат"
    ),
    "no Telegram alerts for this workspace": (
        "у этого рабочего пространства нет оповещений в Telegram"
    ),
    "this Telegram user is linked to another member": (
        "этот пользователь Telegram привязан к другому участнику"
    ),
    "only an admin may link another member's Telegram account": (
        "привязать Telegram другого участника может только администратор"
    ),
    "text, html or attachments is required": "нужен text, html или attachments",
    # widget and customer API
    "unknown widget key": "неизвестный ключ виджета",
    "invalid visitor token": "недействительный токен посетителя",
    "this site is not allowed to use this widget": "этому сайту нельзя использовать этот виджет",
    "the link is invalid or has expired": "ссылка недействительна или устарела",
    "the form needs key, visitor_token and file": "форме нужны key, visitor_token и file",
    "body must be {key, visitor_token?, user_id?, user_hash?}": (
        "тело запроса - {key, visitor_token?, user_id?, user_hash?}"
    ),
    "this chat is for signed-in users: user_id and user_hash required": (
        "этот чат для вошедших пользователей: нужны user_id и user_hash"
    ),
    "user_hash does not match user_id": "user_hash не соответствует user_id",
    "a customer token is required (Authorization: Bearer ...)": (
        "нужен токен клиента (Authorization: Bearer ...)"
    ),
    "malformed customer token": "повреждённый токен клиента",
    "the customer token has expired": "срок действия токена клиента истёк",
    "iat and exp must be numbers": "iat и exp должны быть числами",
    "the token's header must name the widget key as kid": (
        "заголовок токена должен называть ключ виджета в kid"
    ),
    "the token's widget key names no web channel": (
        "ключ виджета в токене не указывает на веб-канал"
    ),
    # knowledge
    "document not found": "документ не найден",
    "FAQ entry not found": "вопрос FAQ не найден",
    "an embedding model is required": "нужна модель эмбеддингов",
    "the API key goes in api_key, not in config": "API-ключ указывается в api_key, а не в config",
    "invalid embedding provider config": "неверные настройки провайдера эмбеддингов",
    # bookings
    "booking not found": "бронирование не найдено",
    "resource not found": "объект бронирования не найден",
    "calendar not found": "календарь не найден",
    "blocked period not found": "закрытый период не найден",
    "departure not found": "выезд не найден",
    "condition template not found": "шаблон условий не найден",
    "a departure at this time already exists": "выезд на это время уже есть",
    "the departure has bookings; reject or cancel them first": (
        "на выезд есть бронирования; сначала отклоните или отмените их"
    ),
    "the resource has pending or confirmed bookings; reject or cancel them first, or "
    "deactivate the resource": (
        "у объекта есть ожидающие или подтверждённые бронирования; сначала отклоните или "
        "отмените их, либо отключите объект"
    ),
    "the resource is already booked in this period": "объект уже забронирован на этот период",
    "the resource is not available in this period": "объект недоступен в этот период",
    "the booking's hold has expired": "срок удержания брони истёк",
    "nothing is bookable yet: add a resource on the bookings page first": (
        "бронировать пока нечего: сначала добавьте объект на странице бронирований"
    ),
    "ends_at must be after starts_at": "ends_at должно быть позже starts_at",
    "a time zone offset is required (e.g. 2027-06-09T10:00:00+08:00)": (
        "нужен часовой пояс (например, 2027-06-09T10:00:00+08:00)"
    ),
    # text fields (kit.text) and channel payloads
    "text must not be blank (only whitespace)": "текст не может быть пустым (одни пробелы)",
    "data must be a base64 string": "data должно быть строкой base64",
    "data is not valid base64": "data - некорректный base64",
    "a colour is #rgb or #rrggbb": "цвет задаётся как #rgb или #rrggbb",
    "bot_token must look like 123456789:AAE... (from @BotFather)": (
        "bot_token выглядит как 123456789:AAE... (от @BotFather)"
    ),
    "chat_id must be a Telegram chat id (e.g. -1001234567890) or @name": (
        "chat_id - это id чата Telegram (например, -1001234567890) или @имя"
    ),
    "duplicate entry id": "повторяющийся id записи",
    "invalid AI settings": "неверные настройки ИИ",
    # channel webhooks
    "invalid channel secret": "неверный секрет канала",
    "invalid message": "некорректное сообщение",
    "missing webhook token": "нет токена вебхука",
    "invalid webhook token": "неверный токен вебхука",
    "invalid e-mail payload": "некорректное письмо",
    "the e-mail has no text": "в письме нет текста",
    "invalid channel config": "неверные настройки канала",
    "invalid X-Telegram-Bot-Api-Secret-Token": "неверный X-Telegram-Bot-Api-Secret-Token",
    "missing X-Hub-Signature-256": "нет X-Hub-Signature-256",
    "invalid X-Hub-Signature-256": "неверный X-Hub-Signature-256",
    "missing signature": "нет подписи",
    "malformed signature": "повреждённая подпись",
    "signature timestamp outside the tolerance": "время подписи вне допустимого окна",
    "signature does not match": "подпись не совпадает",
    # knowledge documents
    "no text found in the document": "в документе не найден текст",
    "no text found in the file": "в файле не найден текст",
    "the DOCX file is damaged (not a valid ZIP archive)": (
        "файл DOCX повреждён (это не корректный ZIP-архив)"
    ),
    "the DOCX file is damaged or is not a Word document": (
        "файл DOCX повреждён или это не документ Word"
    ),
    "the DOCX file is damaged and cannot be read": "файл DOCX повреждён и не читается",
    "the HTML could not be parsed": "не удалось разобрать HTML",
    "the PDF has no pages": "в PDF нет страниц",
    "no text found: the PDF seems to contain only scanned images (text recognition is not "
    "supported)": (
        "текст не найден: похоже, в PDF только сканы (распознавание текста не поддерживается)"
    ),
    "the text of this PDF cannot be extracted (its fonts have no character mapping)": (
        "текст этого PDF не извлекается (у его шрифтов нет таблицы символов)"
    ),
    "the PDF contains a compressed stream too large to unpack (it looks like a decompression "
    "bomb)": "в PDF сжатый поток слишком большого размера (похоже на «бомбу» распаковки)",
    "the PDF is encrypted (password-protected); remove the password and upload it again": (
        "PDF зашифрован (защищён паролем); снимите пароль и загрузите его снова"
    ),
    "the file is a damaged ZIP archive (a DOCX file is a ZIP archive inside)": (
        "файл - повреждённый ZIP-архив (DOCX внутри - это ZIP-архив)"
    ),
    "invalid provider config": "неверные настройки провайдера",
    "text is required (it may be empty only with attachments)": (
        "нужен text (пустым он может быть только с вложениями)"
    ),
    "too many references": "слишком много ссылок (references)",
    "nothing is bookable any more: add a resource first": (
        "бронировать больше нечего: сначала добавьте объект"
    ),
}

# (English pattern, Russian text with the pattern's named groups)
_PATTERNS: list[tuple[str, str]] = [
    (r"request body over (?P<n>\d+) bytes", "тело запроса больше {n} байт"),
    # workspace backups (frontline tenant import)
    (r"not a readable (?P<f>\S+) archive \((?P<d>.+)\)", "архив {f} не читается ({d})"),
    (r"not a (?P<f>\S+) archive", "это не архив {f}"),
    (r"not a (?P<f>\S+) file", "это не файл {f}"),
    (
        r"unsupported backup archive version (?P<v>.+) "
        r"\(this installation reads version (?P<n>.+)\)",
        "версия архива резервной копии {v} не поддерживается (эта установка читает версию {n})",
    ),
    (r"cannot read (?P<p>.+): (?P<e>.+)", "не удалось прочитать {p}: {e}"),
    (
        r"an attachment points at (?P<k>.+), outside this workspace",
        "вложение указывает на {k}, вне этого рабочего пространства",
    ),
    (
        r"too many messages from this contact: at most (?P<n>\d+) a minute",
        "слишком много сообщений от этого контакта: не больше {n} в минуту",
    ),
    (
        r"too many messages from this workspace: at most (?P<n>\d+) a minute",
        "слишком много сообщений в этом рабочем пространстве: не больше {n} в минуту",
    ),
    (
        r"too many messages from (?P<who>.+): at most (?P<n>\d+) a minute",
        "слишком много сообщений: не больше {n} в минуту",
    ),
    (
        r"WhatsApp allows a free-text reply only within 24 hours of the customer's last "
        r"message(?P<since>.*?); the customer has to write again first.*",
        "WhatsApp разрешает свободный ответ только в течение 24 часов после последнего "
        "сообщения клиента; клиенту нужно сначала написать снова (шаблоны сообщений пока "
        "не поддерживаются)",
    ),
    (r"invalid channel config: (?P<x>.*)", "неверные настройки канала: {x}"),
    (r"demo (?P<kind>\w+) channel: (?P<x>.*)", "демо-канал {kind}: {x}"),
    (
        r"the document has too much text \(more than (?P<n>\d+) characters\)",
        "в документе слишком много текста (больше {n} символов)",
    ),
    (
        r"the DOCX file looks like a zip bomb: (?P<x>.*)",
        "файл DOCX похож на «zip-бомбу»: {x}",
    ),
    (r"the PDF has more than (?P<n>\d+) pages", "в PDF больше {n} страниц"),
    (
        r"unsupported file type \((?P<what>.*?)\); upload a PDF, DOCX, HTML, Markdown or "
        r"plain-text file",
        "неподдерживаемый тип файла ({what}); загрузите PDF, DOCX, HTML, Markdown или текст",
    ),
    (r"unsupported file type \((?P<what>.*?)\); (?P<x>.*)", "неподдерживаемый тип файла ({what})"),
    (r"at most (?P<n>\d+) files a minute", "не больше {n} файлов в минуту"),
    (r"a file is at most (?P<n>\d+) bytes", "файл - не больше {n} байт"),
    (r"this action needs the (?P<role>\w+) role", "для этого действия нужна роль {role}"),
    (
        r"missing or wrong CSRF token: (?P<rest>.*)",
        "CSRF-токен отсутствует или неверен: {rest}",
    ),
    (r"no tenant (?P<x>.+)", "нет рабочего пространства {x}"),
    (r"no workspace (?P<x>.+)", "нет рабочего пространства {x}"),
    (
        r"a tenant with slug (?P<x>.+) already exists",
        "рабочее пространство со slug {x} уже существует",
    ),
    (r"not a (?P<x>.+) file", "это не файл {x}"),
    (r"unsupported export version (?P<x>.+)", "неподдерживаемая версия выгрузки {x}"),
    (r"unknown tables in the export: (?P<x>.+)", "неизвестные таблицы в выгрузке: {x}"),
    (r"unknown column (?P<x>.+) in the export", "неизвестный столбец {x} в выгрузке"),
    (
        r"another account with the e-mail (?P<x>.+) exists in the target",
        "в целевой базе уже есть другая учётная запись с e-mail {x}",
    ),
    (
        r"the plan's limit is reached: (?P<what>.+) at most (?P<n>\d+)",
        "достигнут предел тарифа: {what} - не больше {n}",
    ),
    (
        r"the (?P<kind>\w+) provider refused the webhook: (?P<x>.*)",
        "провайдер {kind} отклонил вебхук: {x}",
    ),
    (r"Telegram refused the alert bot: (?P<x>.*)", "Telegram отклонил бота оповещений: {x}"),
    (
        r"Telegram did not deliver the test alert: (?P<x>.*)",
        "Telegram не доставил тестовое оповещение: {x}",
    ),
    (
        r"sub must be the user id \(1-(?P<n>\d+) characters\)",
        "sub - это id пользователя (1-{n} символов)",
    ),
    (
        r"a customer token lives at most (?P<n>\d+) seconds",
        "токен клиента живёт не больше {n} секунд",
    ),
    (r"invalid customer token: (?P<x>.*)", "недействительный токен клиента: {x}"),
    (r"invalid upload: (?P<x>.*)", "некорректная загрузка: {x}"),
    (r"attribute (?P<k>.+) is already a (?P<t>.+)", "атрибут {k} уже имеет тип {t}"),
    (r"(?P<k>.+): expected text", "{k}: ожидается текст"),
    (r"(?P<k>.+): expected a boolean \(true or false\)", "{k}: ожидается true или false"),
    (r"(?P<k>.+): expected a number", "{k}: ожидается число"),
    (r"(?P<k>.+): expected a finite number", "{k}: ожидается конечное число"),
    (r"(?P<k>.+): expected a date \(YYYY-MM-DD\)", "{k}: ожидается дата (ГГГГ-ММ-ДД)"),
    (r"(?P<k>.+): not a calendar date: (?P<v>.*)", "{k}: такой даты нет в календаре: {v}"),
    (r"(?P<k>.+): at most (?P<n>\d+) characters", "{k}: не больше {n} символов"),
    (
        r"(?P<k>.+): a contact has at most (?P<n>\d+) attributes",
        "{k}: у контакта не больше {n} атрибутов",
    ),
    (
        r"(?P<k>.+): a key is 1-50 characters a-z, 0-9 and _, starting with a letter",
        "{k}: ключ - 1-50 символов a-z, 0-9 и _, начиная с буквы",
    ),
    (
        r"unknown or already sent attachments: (?P<x>.*)",
        "неизвестные или уже отправленные вложения: {x}",
    ),
    (r"the file is larger than (?P<x>.+)", "файл больше {x}"),
    (
        r"the knowledge base is full: (?P<used>.+) of (?P<cap>.+) used; (?P<rest>.*)",
        "база знаний заполнена: занято {used} из {cap}; удалите документы, чтобы освободить место",
    ),
    (
        r"(?P<kind>.+) has no embeddings \(search stays lexical without one\)",
        "у {kind} нет эмбеддингов (без них поиск остаётся лексическим)",
    ),
    (
        r"only a message whose delivery is unknown can be resent \(it is (?P<s>\w+)\)",
        "повторно отправить можно только сообщение с неизвестной доставкой (сейчас: {s})",
    ),
    (
        r"condition template (?P<x>.+) already exists",
        "шаблон условий {x} уже существует",
    ),
    (r"resource (?P<x>.+) already exists", "объект {x} уже существует"),
    (r"the booking is (?P<s>\w+), not pending", "бронирование в статусе {s}, а не ожидает"),
    (r"the booking is (?P<s>\w+)", "бронирование в статусе {s}"),
    (
        r"not enough free places: (?P<n>\d+) left",
        "недостаточно свободных мест: осталось {n}",
    ),
    (r"category (?P<x>.+) already exists", "категория {x} уже существует"),
    (r"the (?P<what>.+) is blank", "{what}: пусто"),
    (
        r"a canned reply titled (?P<x>.+) already exists",
        "шаблон ответа с заголовком {x} уже существует",
    ),
    (r"tag (?P<x>.+) already exists", "тег {x} уже существует"),
    (r"unknown tag: (?P<x>.+)", "неизвестный тег: {x}"),
    (r"a range is at most (?P<n>\d+) days", "период - не больше {n} дней"),
    (r"unknown time zone (?P<x>.+)", "неизвестный часовой пояс {x}"),
    (
        r"not an origin \(scheme://host\[:port\]\): (?P<x>.+)",
        "это не origin (scheme://host[:port]): {x}",
    ),
    (r"an origin has no path: (?P<x>.+)", "у origin нет пути: {x}"),
    # pydantic's own validation messages
    (r"Field required", "обязательное поле"),
    (r"Extra inputs are not permitted", "лишнее поле не допускается"),
    (r"JSON decode error", "ошибка разбора JSON"),
    (
        r"String should have at least (?P<n>\d+) characters?",
        "строка должна содержать не меньше {n} символов",
    ),
    (
        r"String should have at most (?P<n>\d+) characters?",
        "строка должна содержать не больше {n} символов",
    ),
    (r"String should match pattern (?P<x>.+)", "строка должна соответствовать шаблону {x}"),
    (r"Input should be a valid string", "ожидается строка"),
    (r"Input should be a valid integer.*", "ожидается целое число"),
    (r"Input should be a valid number.*", "ожидается число"),
    (r"Input should be a valid boolean.*", "ожидается true или false"),
    (r"Input should be a valid UUID.*", "ожидается UUID"),
    (r"Input should be a valid datetime.*", "ожидается дата и время"),
    (r"Input should be a valid date.*", "ожидается дата"),
    (r"Input should be a valid list", "ожидается список"),
    (r"Input should be a valid dictionary.*", "ожидается объект"),
    (r"Input should be a valid email address.*", "ожидается адрес e-mail"),
    (r"value is not a valid email address: (?P<x>.*)", "это не адрес e-mail: {x}"),
    (r"Input should be a valid URL.*", "ожидается URL"),
    (r"Input should be (?P<x>'.+)", "ожидается одно из значений: {x}"),
    (
        r"Input should be greater than or equal to (?P<n>\S+)",
        "значение должно быть не меньше {n}",
    ),
    (r"Input should be greater than (?P<n>\S+)", "значение должно быть больше {n}"),
    (r"Input should be less than or equal to (?P<n>\S+)", "значение должно быть не больше {n}"),
    (r"Input should be less than (?P<n>\S+)", "значение должно быть меньше {n}"),
    (
        r"List should have at most (?P<n>\d+) items?.*",
        "в списке должно быть не больше {n} элементов",
    ),
    (
        r"List should have at least (?P<n>\d+) items?.*",
        "в списке должно быть не меньше {n} элементов",
    ),
]

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern, re.S), russian) for pattern, russian in _PATTERNS
]

# the Russian sentence of each error code, for a message neither table knows
BY_CODE: dict[str, str] = {
    "bad_request": "некорректный запрос",
    "invalid": "некорректные данные",
    "not_found": "не найдено",
    "unauthorized": "требуется вход",
    "forbidden": "доступ запрещён",
    "conflict": "конфликт с текущим состоянием",
    "payload_too_large": "слишком большой запрос",
    "too_many_requests": "слишком много запросов",
    "method_not_allowed": "метод не поддерживается",
    "unsupported": "неподдерживаемый формат",
    "corrupt": "файл повреждён",
    "encrypted": "файл зашифрован",
    "zip_bomb": "архив подозрительно сильно сжат",
    "too_large": "слишком большой файл",
    "too_many_pages": "слишком много страниц",
    "no_text": "в файле нет текста",
    "empty": "файл пустой",
    "telegram_refused": "Telegram отказал",
    "internal": "внутренняя ошибка сервера",
    "ai_not_configured": "нужна языковая модель: добавьте провайдера в настройках ИИ",
}
BY_STATUS: dict[int, str] = {
    400: "некорректный запрос",
    401: "требуется вход",
    403: "доступ запрещён",
    404: "не найдено",
    405: "метод не поддерживается",
    409: "конфликт с текущим состоянием",
    413: "слишком большой запрос",
    415: "неподдерживаемый тип содержимого",
    422: "некорректные данные",
    429: "слишком много запросов",
}


def known(message: str) -> str | None:
    """The Russian text of ``message`` when the tables know it."""
    if message.startswith("Value error, "):  # a validator's ValueError, as pydantic words it
        return known(message.removeprefix("Value error, "))
    exact = EXACT.get(message)
    if exact is not None:
        return exact
    for pattern, russian in PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return russian.format(**found.groupdict())
    return None


def to_russian(message: str, code: str = "", status: int = 400) -> str:
    """``message`` in Russian: translated when known, else the code's sentence with the
    original words after it."""
    translated = known(message)
    if translated is not None:
        return translated
    generic = BY_CODE.get(code) or BY_STATUS.get(status) or "ошибка запроса"
    return f"{generic}: {message}" if message else generic
