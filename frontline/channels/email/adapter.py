"""E-mail channel adapter.

Inbound: ``POST /api/v1/webhooks/email/{channel_id}`` with a JSON body and
``X-Frontline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``; older
than the tolerance or wrong: rejected. The Message-ID is the message's external id (so a
redelivery is a no-op) and In-Reply-To/References thread it into its conversation.

Outbound: SMTP through ``aiosmtplib`` with Message-ID, In-Reply-To and References headers so
mail clients thread the reply under the customer's e-mail.
"""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from html.parser import HTMLParser
from typing import ClassVar, Literal

import aiosmtplib
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    AttachmentIn,
    AuthFailed,
    BadRequest,
    ChannelConfig,
    ChannelType,
    InboundContact,
    InboundMessage,
    InboundRequest,
    InvalidPayload,
    OutboundMessage,
    SendResult,
    SignatureRejected,
    Timeout,
    Unavailable,
    parse_json_body,
    validation_fields,
)
from frontline.kit.crypto import SignatureError, verify_signature

SIGNATURE_HEADER = "x-frontline-signature"
_MSGID_RE = re.compile(r"<[^<>\s]+>")
MAX_REFERENCES = 30


class EmailChannelConfig(ChannelConfig):
    model_config = ConfigDict(extra="forbid")

    from_address: EmailStr
    from_name: str = Field(default="Support", max_length=200)
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=120)

    @property
    def message_id_domain(self) -> str:
        return str(self.from_address).rsplit("@", 1)[-1]


class EmailInbound(BaseModel):
    """The inbound webhook body."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: EmailStr = Field(alias="from")
    from_name: str | None = Field(default=None, max_length=200)
    to: str | list[str] | None = None
    subject: str = Field(default="", max_length=1000)
    text: str = Field(default="", max_length=200_000)
    html: str = Field(default="", max_length=1_000_000)
    message_id: str | None = Field(default=None, max_length=500)
    in_reply_to: str | None = Field(default=None, max_length=2000)
    references: str | list[str] | None = None
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE
    )

    @field_validator("subject", "text", "html", "attachments", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object, info: ValidationInfo) -> object:
        """Every optional field may be ``null`` (mail parsers send it for what a message
        lacks): the same as leaving it out."""
        if value is None:
            return [] if info.field_name == "attachments" else ""
        return value

    @field_validator("references")
    @classmethod
    def _cap_references(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 500:
            raise ValueError("too many references")
        return value


class _TextExtractor(HTMLParser):
    """Visible text of an HTML body; scripts and styles dropped."""

    _SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "head", "title"})
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def message_ids(value: str | list[str] | None) -> tuple[str, ...]:
    """Message-IDs (``<...>``) found in a header value or list, in order, de-duplicated."""
    if not value:
        return ()
    raw = " ".join(value) if isinstance(value, list) else value
    found = _MSGID_RE.findall(raw)
    if not found and isinstance(value, list):
        found = [v.strip() for v in value if v.strip()]
    elif not found and raw.strip():
        found = [raw.strip()]
    return tuple(dict.fromkeys(found))


def one_line(value: str) -> str:
    """Header text from untrusted input on one line: a line break fails the header."""
    return " ".join(value.split())


def normalize_message_id(value: str) -> str:
    """``<id>`` with any whitespace or control characters removed (they would make every
    header that later quotes this id - In-Reply-To, References - unsendable)."""
    value = "".join(ch for ch in value if ch.isprintable() and not ch.isspace())
    if not value.startswith("<"):
        value = f"<{value}>"
    return value


class EmailChannelAdapter:
    type: ClassVar[ChannelType] = ChannelType.EMAIL
    # no idempotency key at the provider: an interrupted send becomes ``unknown``
    resend_is_idempotent: ClassVar[bool] = False

    def __init__(
        self, config: EmailChannelConfig, secret: str, tolerance_seconds: int = 300
    ) -> None:
        self._config = config
        self._secret = secret
        self._tolerance = tolerance_seconds

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        try:
            verify_signature(
                self._secret, request.body, request.headers.get(SIGNATURE_HEADER), self._tolerance
            )
        except SignatureError as exc:
            raise SignatureRejected(str(exc)) from exc
        data = parse_json_body(request.body)
        try:
            mail = EmailInbound.model_validate(data)
        except ValidationError as exc:
            raise InvalidPayload("invalid e-mail payload", validation_fields(exc.errors())) from exc
        text = mail.text.strip() or html_to_text(mail.html)
        if not text and not mail.attachments:
            raise InvalidPayload(
                "the e-mail has no text",
                [
                    {
                        "loc": ["body", "text"],
                        "message": "text, html or attachments is required",
                        "type": "missing",
                    }
                ],
            )
        sender = str(mail.from_).lower()
        if mail.message_id and mail.message_id.strip():
            external_id = normalize_message_id(mail.message_id)
        else:
            digest = hashlib.sha256(request.body).hexdigest()[:32]
            external_id = f"<sha256-{digest}@frontline.invalid>"
        refs = (*message_ids(mail.in_reply_to), *message_ids(mail.references))
        return [
            InboundMessage(
                external_id=external_id,
                contact=InboundContact(external_id=sender, name=mail.from_name, email=sender),
                text=text,
                subject=mail.subject.strip() or None,
                thread_refs=tuple(dict.fromkeys(refs)),
                new_thread_if_unmatched=True,
                meta={"subject": mail.subject, "to": mail.to},
                attachments=tuple(a.inbound() for a in mail.attachments),
            )
        ]

    def build_email(self, message: OutboundMessage) -> EmailMessage:
        if not message.recipient_email:
            raise BadRequest("the contact has no e-mail address")
        if not message.external_id:
            raise BadRequest("outbound e-mail needs a Message-ID")
        email = EmailMessage()
        sender = (one_line(self._config.from_name), str(self._config.from_address))
        email["From"] = formataddr(sender)
        email["To"] = formataddr((one_line(message.recipient_name or ""), message.recipient_email))
        subject = one_line(message.subject or "")
        if subject and not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        email["Subject"] = subject or (
            "Ваше обращение" if message.locale == "ru" else "Your request"
        )
        email["Message-ID"] = message.external_id
        email["Date"] = formatdate(localtime=False, usegmt=True)
        if message.in_reply_to:
            email["In-Reply-To"] = message.in_reply_to
        refs = list(dict.fromkeys(message.references))[-MAX_REFERENCES:]
        if refs:
            email["References"] = " ".join(refs)
        email.set_content(message.text)
        return email

    async def send(self, message: OutboundMessage) -> SendResult:
        email = self.build_email(message)
        cfg = self._config
        password = cfg.smtp_password.get_secret_value() if cfg.smtp_password else None
        try:
            await aiosmtplib.send(
                email,
                hostname=cfg.smtp_host,
                port=cfg.smtp_port,
                username=cfg.smtp_username,
                password=password,
                use_tls=cfg.smtp_security == "tls",
                start_tls=cfg.smtp_security == "starttls",
                timeout=cfg.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(f"SMTP authentication failed: {exc}") from exc
        except aiosmtplib.SMTPConnectTimeoutError as exc:
            raise Unavailable(f"SMTP server unreachable: {exc}") from exc  # nothing sent
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
            raise Timeout(f"SMTP timed out: {exc}") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(400 <= c < 500 for c in codes):
                raise Unavailable(f"recipient temporarily refused: {exc}") from exc
            raise BadRequest(f"recipient refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise Unavailable(f"SMTP temporary failure {exc.code}: {exc.message}") from exc
            raise BadRequest(f"SMTP rejected {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = Unavailable(f"SMTP unavailable: {exc}")
            # a connection that failed sent nothing; one lost mid-conversation may have
            # handed the mail over (the server can have queued it before its answer)
            error.may_have_arrived = not isinstance(
                exc, (aiosmtplib.SMTPConnectError, ConnectionRefusedError)
            )
            raise error from exc
        return SendResult(external_id=message.external_id)
