"""The channel adapter contract: neutral message types, the Protocol, the closed error set.

An adapter is built per call from one channel's decrypted config and secret and is never
mutated. It verifies and parses inbound requests into :class:`InboundMessage` and sends
:class:`OutboundMessage`. Adapters import only ``frontline.kit`` and this module.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ChannelType(enum.StrEnum):
    API = "api"
    EMAIL = "email"
    WEB = "web"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    AVITO = "avito"
    MAILBOX = "mailbox"  # an IMAP mailbox in, SMTP out


@dataclass(frozen=True, slots=True)
class InboundContact:
    external_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file the customer sent with a message.

    Either ``data`` is inline (a MIME part of an e-mail, an upload) or ``ref`` names the
    file at the provider (a Telegram ``file_id``, a WhatsApp media id) and the adapter's
    :meth:`AttachmentFetcher.fetch_attachment` downloads it later, in a job: webhooks are
    acknowledged before any download.
    """

    filename: str | None = None
    content_type: str | None = None  # as the provider declared it; sniffed again on storing
    size: int | None = None  # as declared; the stored size is measured
    data: bytes | None = None
    ref: str | None = None
    kind: str = "file"  # image | file | audio | video | sticker


# files in one inbound message at most (more in a JSON body: 422; from a provider: the
# rest are recorded as failed)
MAX_ATTACHMENTS_PER_MESSAGE = 10


class AttachmentIn(BaseModel):
    """A file in an inbound JSON body (API channel, e-mail webhook): ``data`` is base64
    (standard alphabet, padded; line breaks allowed). The type is sniffed from the bytes
    when stored; ``content_type`` is only what the sender declared."""

    model_config = ConfigDict(extra="forbid")

    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=200)
    data: bytes

    @field_validator("data", mode="before")
    @classmethod
    def _base64(cls, value: object) -> bytes:
        if not isinstance(value, str):
            raise ValueError("data must be a base64 string")
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data is not valid base64") from None

    def inbound(self) -> InboundAttachment:
        return InboundAttachment(
            filename=self.filename,
            content_type=self.content_type,
            size=len(self.data),
            data=self.data,
        )


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """A provider file downloaded by :meth:`AttachmentFetcher.fetch_attachment`."""

    data: bytes
    content_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message, channel-neutral."""

    external_id: str
    contact: InboundContact
    text: str
    subject: str | None = None
    # external ids of earlier messages this one answers (e-mail In-Reply-To/References)
    thread_refs: tuple[str, ...] = ()
    # the conversation must be new (e-mail that threads to nothing known)
    new_thread_if_unmatched: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[InboundAttachment, ...] = ()
    # facts about the conversation itself (an Avito chat's listing), merged into its meta
    conversation_meta: dict[str, Any] = field(default_factory=dict)
    # False: the channel answers this message itself (Telegram's /start greeting), the AI
    # does not
    ai_reply: bool = True


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """The raw request a webhook received, for the adapter to verify and parse."""

    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply to send to the customer."""

    message_id: int
    conversation_id: int
    idempotency_key: str
    recipient_external_id: str
    text: str
    recipient_name: str | None = None
    recipient_email: str | None = None
    subject: str | None = None
    # channel-level id assigned by Frontline (e-mail Message-ID), stable across retries
    external_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    sender_type: str = "ai"
    sender_name: str | None = None
    locale: str = "ru"


@dataclass(frozen=True, slots=True)
class SendResult:
    external_id: str | None = None


class ChannelError(Exception):
    """Base of the closed error set. ``transient`` errors are retried with backoff.

    ``may_have_arrived``: the request may have reached the provider before the failure (a
    timeout, a connection lost after the request was written) - a send that failed so is
    not repeated blindly by a channel without an idempotency key (see
    :attr:`ChannelAdapter.resend_is_idempotent`). An error the provider answered with (HTTP
    429, 5xx, a refused connection) did not send anything."""

    transient: ClassVar[bool] = False
    may_have_arrived: bool = False


class RateLimited(ChannelError):
    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthFailed(ChannelError):
    transient = False


class SignatureRejected(AuthFailed):
    """An inbound request whose secret or signature is wrong (answer 401, write nothing)."""


class Unavailable(ChannelError):
    transient = True


class BadRequest(ChannelError):
    transient = False


class InvalidPayload(BadRequest):
    """An inbound request body that does not validate; ``fields`` lists the errors."""

    def __init__(self, message: str, fields: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.fields = fields


class Timeout(ChannelError):
    transient = True
    may_have_arrived = True


def validation_fields(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic validation errors as the API's ``fields`` list."""
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors
    ]


class ChannelConfig(BaseModel):
    """Base of each channel's config model (secret fields are ``SecretStr``)."""

    def pushes_replies(self) -> bool:
        """Whether replies are sent somewhere (a delivery job runs); ``False`` for a channel
        whose integration polls them instead."""
        return True


class ChannelAdapter(Protocol):
    type: ClassVar[ChannelType]
    # whether sending the same message again is harmless because the receiver deduplicates
    # it (the API channel's ``Idempotency-Key``); when False an interrupted send is never
    # repeated by itself: the message is marked ``unknown`` for an operator to resend
    resend_is_idempotent: ClassVar[bool]

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        """Authenticate the request (raise :class:`AuthFailed`) and parse it (raise
        :class:`BadRequest`). Pure: no I/O, so it runs inline in the request."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message; raise a :class:`ChannelError` on failure."""
        ...


class AttachmentFetcher(Protocol):
    """An adapter whose inbound files live at the provider until fetched."""

    async def fetch_attachment(self, ref: str, max_bytes: int) -> FetchedFile:
        """Download the file ``ref`` names; raise :class:`BadRequest` when it is larger
        than ``max_bytes`` or gone, another :class:`ChannelError` on failure."""
        ...


def parse_json_body(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidPayload(
            "malformed JSON body", [{"loc": ["body"], "message": str(exc), "type": "json_invalid"}]
        ) from exc
