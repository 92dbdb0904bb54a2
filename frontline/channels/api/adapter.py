"""API channel: inbound ``POST /api/v1/channels/{id}/messages`` with the channel secret as a
Bearer token; replies POSTed as signed JSON to the configured callback URL, or, without one,
stored as delivered for the integration to poll."""

from __future__ import annotations

import json
from typing import ClassVar

import aiohttp
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    AttachmentIn,
    ChannelConfig,
    ChannelType,
    InboundContact,
    InboundMessage,
    InboundRequest,
    InvalidPayload,
    OutboundMessage,
    SendResult,
    SignatureRejected,
    parse_json_body,
    validation_fields,
)
from frontline.channels.http import http_client, network_error, raise_for_http_status
from frontline.kit.crypto import constant_time_equals, sign
from frontline.kit.text import MAX_MESSAGE_CHARS, not_blank

MAX_TEXT_CHARS = MAX_MESSAGE_CHARS


class ApiChannelConfig(ChannelConfig):
    model_config = ConfigDict(extra="forbid")

    callback_url: AnyHttpUrl | None = None

    def pushes_replies(self) -> bool:
        return self.callback_url is not None


class ApiContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)


class ApiMessageIn(BaseModel):
    """Body of an inbound API-channel message."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=500)
    contact: ApiContactIn
    # before ``text``: validated first, so that ``text`` may be empty when files came
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE
    )
    text: str = Field(
        default="", max_length=MAX_TEXT_CHARS, description="not blank unless files come"
    )

    @field_validator("text")
    @classmethod
    def _text_or_files(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("attachments"):
            return value
        if not value:
            raise PydanticCustomError(
                "missing", "text is required (it may be empty only with attachments)"
            )
        return not_blank(value)


class ApiChannelAdapter:
    type: ClassVar[ChannelType] = ChannelType.API
    # the receiver deduplicates by Idempotency-Key: an interrupted send is repeated
    resend_is_idempotent: ClassVar[bool] = True

    def __init__(self, config: ApiChannelConfig, secret: str, timeout: float = 10.0) -> None:
        self._config = config
        self._secret = secret
        self._timeout = timeout

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise SignatureRejected("missing bearer token")
        if not constant_time_equals(token.strip(), self._secret):
            raise SignatureRejected("invalid channel secret")
        data = parse_json_body(request.body)
        try:
            body = ApiMessageIn.model_validate(data)
        except ValidationError as exc:
            raise InvalidPayload("invalid message", validation_fields(exc.errors())) from exc
        contact = InboundContact(
            external_id=body.contact.external_id,
            name=body.contact.name,
            email=body.contact.email,
            phone=body.contact.phone,
        )
        return [
            InboundMessage(
                external_id=body.external_id,
                contact=contact,
                text=body.text,
                attachments=tuple(a.inbound() for a in body.attachments),
            )
        ]

    async def send(self, message: OutboundMessage) -> SendResult:
        if self._config.callback_url is None:
            # nothing to push to: the reply is stored and the integration reads it with
            # GET /api/v1/conversations/{id}/messages, so it counts as delivered
            return SendResult(external_id=None)
        payload = {
            "event": "message.created",
            "message_id": message.message_id,
            "conversation_id": message.conversation_id,
            "contact": {"external_id": message.recipient_external_id},
            "sender_type": message.sender_type,
            "sender_name": message.sender_name,
            "text": message.text,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "X-Frontline-Signature": sign(self._secret, body),
        }
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with (
                http_client() as client,
                client.post(
                    str(self._config.callback_url), data=body, headers=headers, timeout=timeout
                ) as response,
            ):
                # read to the end: the connection then goes back to the pool
                answer = await response.read()
                status, answer_headers = response.status, response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise network_error("callback", exc) from exc
        text = answer.decode("utf-8", "replace") if status >= 300 else ""
        raise_for_http_status(status, text, answer_headers)
        return SendResult(external_id=None)
