"""Raw mail into inbound messages: charsets, quoted replies and signatures, files, robots."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from frontline.channels.email.mime import parse_mail, strip_quoted


def raw(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Gmail, English
        (
            "Is it free on Friday?\n\nOn Mon, Dec 7, 2026 at 10:00 AM Support <s@x.com> wrote:\n"
            "> We have rooms.\n> Regards",
            "Is it free on Friday?",
        ),
        # Gmail, Russian (attribution ends with the address)
        (
            "Да, подходит.\n\nпн, 7 дек. 2026 г. в 10:00, Support <s@x.com>:\n> Есть номер.",
            "Да, подходит.",
        ),
        # Thunderbird, wrapped attribution
        (
            "Спасибо!\n\nOn 07.12.2026 10:00, Support\n<s@x.com> wrote:\n> text",
            "Спасибо!",
        ),
        # Yandex / Mail.ru
        ('Ок\n\n07.12.2026, 10:00, "Support" <s@x.com>:\n> old', "Ок"),
        ("Хорошо\n\nИван Петров написал(а):\n> старое", "Хорошо"),
        # Outlook
        (
            "See below.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nold",
            "See below.",
        ),
        (
            "Согласен\n\nFrom: Support <s@x.com>\nSent: Monday, December 7, 2026\n"
            "To: me\nSubject: Re\n\nold text",
            "Согласен",
        ),
        # signature delimiter, mobile footer, closing with a name
        ("Нужен трансфер.\n\n-- \nИван Петров\n+7 900 000-00-00", "Нужен трансфер."),
        ("Call me back\n\nSent from my iPhone", "Call me back"),
        ("Перезвоните\n\nОтправлено из мобильной Почты Mail.ru", "Перезвоните"),
        ("Когда заезд?\n\nС уважением,\nИван", "Когда заезд?"),
        # interleaved answers keep the customer's lines only
        ("> Сколько гостей?\nДвое\n> Даты?\n10-12 мая", "Двое\n10-12 мая"),
        # nothing of the customer's own: kept whole rather than empty
        ("> only a quote", "> only a quote"),
    ],
)
def test_quoted_replies_and_signatures_are_stripped(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


@pytest.mark.parametrize(
    ("charset", "transfer"),
    [
        ("koi8-r", "8bit"),
        ("windows-1251", "8bit"),
        ("windows-1251", "quoted-printable"),
        ("utf-8", "base64"),
    ],
)
def test_declared_charsets_are_decoded(charset: str, transfer: str) -> None:
    text = "Здравствуйте, ёлка и Ъ."
    msg = EmailMessage()
    msg["From"] = "a@example.ru"
    msg["Subject"] = "Привет"
    msg.set_content(text, charset=charset, cte=transfer)
    parsed = parse_mail(msg.as_bytes())
    assert parsed.message is not None
    assert parsed.message.text == text
    assert parsed.message.subject == "Привет"


def test_undeclared_charset_falls_back_to_windows_1251() -> None:
    body = "Цена тура?".encode("windows-1251")
    parsed = parse_mail(raw("From: a@example.ru\nSubject: x\nMessage-ID: <1@x>\n", body))
    assert parsed.message is not None and parsed.message.text == "Цена тура?"


def test_koi8r_encoded_words_in_headers() -> None:
    headers = (
        "From: =?koi8-r?B?8MXU0g==?= <petr@example.ru>\n"
        "Subject: =?koi8-r?B?4tLPztg=?=\nMessage-ID: <k@x>\n"
        "Content-Type: text/plain; charset=koi8-r\n"
    )
    parsed = parse_mail(raw(headers, "Добрый день".encode("koi8-r")))
    assert parsed.message is not None
    assert parsed.message.contact.name == "Петр"
    assert parsed.message.subject == "Бронь"
    assert parsed.message.text == "Добрый день"


def test_html_only_mail_is_text() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("<p>Hello<br>there</p><script>x()</script>", subtype="html")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.message is not None and parsed.message.text == "Hello\nthere"


def test_threading_headers_and_missing_message_id() -> None:
    headers = "From: A <A@Example.com>\nIn-Reply-To: <a@x>\nReferences: <r@x> <a@x>\n"
    one = parse_mail(raw(headers, b"hi"))
    assert one.message is not None
    assert one.message.thread_refs == ("<a@x>", "<r@x>")
    assert one.message.contact.external_id == "a@example.com"
    # no Message-ID: the same bytes are always the same message
    assert one.message.external_id == parse_mail(raw(headers, b"hi")).message.external_id  # type: ignore[union-attr]
    assert one.message.external_id.endswith("@frontline.invalid>")


def test_forwarded_message_is_one_file() -> None:
    inner = EmailMessage()
    inner["From"] = "x@example.com"
    inner["Subject"] = "original"
    inner.set_content("inner body")
    outer = EmailMessage()
    outer["From"] = "a@example.com"
    outer.set_content("See the forwarded mail")
    outer.add_attachment(inner)
    parsed = parse_mail(outer.as_bytes())
    assert parsed.message is not None
    assert parsed.message.text == "See the forwarded mail"
    [file] = parsed.message.attachments
    assert file.content_type == "message/rfc822" and b"inner body" in (file.data or b"")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("From: a@example.com\nAuto-Submitted: auto-replied\n", "Auto-Submitted"),
        ("From: a@example.com\nPrecedence: bulk\n", "Precedence"),
        ("From: MAILER-DAEMON@example.com\n", "delivery report"),
        ("From: Support <SUPPORT@tours.example.com>\n", "sent by this mailbox"),
        ("Subject: no sender\n", "no sender"),
    ],
)
def test_robots_and_own_mail_are_skipped(headers: str, reason: str) -> None:
    parsed = parse_mail(raw(headers, b"x"), own_address="support@tours.example.com")
    assert parsed.message is None and parsed.skip is not None and reason in parsed.skip


def test_garbage_does_not_raise() -> None:
    parsed = parse_mail(b"\x00\xff not a mail at all")
    assert parsed.message is None


def test_mail_with_only_a_subject_keeps_the_subject_as_text() -> None:
    parsed = parse_mail(raw("From: a@example.com\nSubject: Call me\n", b""))
    assert parsed.message is not None and parsed.message.text == "Call me"


def dsn(original_id: str, action: str = "failed") -> bytes:
    """A delivery status notification (RFC 3464) as Postfix sends it."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: support@tours.example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{action}-{original_id.strip("<>")}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0"

--B0
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org. I'm sorry to have to inform you
that your message could not be delivered to one or more recipients.

--B0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; ivan@customer.example.ru
Action: {action}
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <ivan@customer.example.ru>: User unknown

--B0
Content-Type: text/rfc822-headers

From: Tours Support <support@tours.example.com>
To: ivan@customer.example.ru
Subject: Re: Tour
Message-ID: {original_id}

--B0--
""".replace("\n", "\r\n").encode()


def test_delivery_report_names_our_failed_mail() -> None:
    ours = "<fl.42.0123456789abcdef@tours.example.com>"
    parsed = parse_mail(dsn(ours), own_address="support@tours.example.com")
    assert parsed.message is None and parsed.skip == "delivery report"
    assert parsed.bounce is not None and parsed.bounce.message_id == ours
    assert "5.1.1" in parsed.bounce.reason and "User unknown" in parsed.bounce.reason
    # a delay notice is not a failure; a report about someone else's mail names nothing
    assert parse_mail(dsn(ours, action="delayed")).bounce is None
    assert parse_mail(dsn("<other@example.com>")).bounce is None


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("INBOX", "INBOX"),
        ("Поддержка", "&BB8EPgQ0BDQENQRABDYEOgQw-"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("日本語", "&ZeVnLIqe-"),  # RFC 3501's own example
    ],
)
def test_folder_names_in_modified_utf7(name: str, encoded: str) -> None:
    from frontline.channels.email.imap import encode_folder

    assert encode_folder(name) == encoded
