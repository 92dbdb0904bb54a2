"""Avito Messenger channel adapter.

Inbound: Avito POSTs webhook v3 notifications ``{"id", "version", "timestamp", "payload":
{"type": "message", "value": {"id", "chat_id", "user_id", "author_id", "created", "type",
"chat_type", "content", "item_id"}}}`` to the URL we subscribed,
``/api/v1/webhooks/avito/{channel_id}?token=<channel secret>``: Avito does not sign its
calls, so the secret in the URL (compared in constant time) authenticates them. The
chat (``chat_id``) is the contact - an Avito chat is one customer about one listing - and
the listing (``item_id``) is kept on the conversation. The account's own messages (our
replies echoed back: ``author_id`` equals the channel's ``user_id``) and system messages are
ignored.

Outbound: text messages into the chat through :mod:`frontline.channels.avito.client`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import AnyHttpUrl, ConfigDict, Field, SecretStr

from frontline.channels.avito.client import AvitoClient
from frontline.channels.base import (
    BadRequest,
    ChannelConfig,
    ChannelType,
    FetchedFile,
    InboundAttachment,
    InboundContact,
    InboundMessage,
    OutboundMessage,
    SendResult,
    SignatureRejected,
    Unavailable,
    parse_json_body,
)

DEFAULT_API_URL = "https://api.avito.ru"


class AvitoChannelConfig(ChannelConfig):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretStr = Field(min_length=1)
    user_id: int = Field(gt=0)  # the Avito account (profile) number
    api_base_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_API_URL)


@dataclass(frozen=True, slots=True)
class AvitoWebhook:
    messages: list[InboundMessage]
    ignored: int = 0


def _str(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _text_and_files(kind: str, content: dict[str, Any]) -> tuple[str, list[InboundAttachment]]:
    if kind == "text":
        return _str(content.get("text")) or "", []
    if kind == "image":
        sizes = (content.get("image") or {}).get("sizes") or {}
        if isinstance(sizes, dict) and sizes:
            # the largest rendition ("1280x960" beats "640x480")
            def area(name: str) -> int:
                w, _, h = name.partition("x")
                return int(w) * int(h) if w.isdigit() and h.isdigit() else 0

            url = _str(sizes[max(sizes, key=area)])
            if url:
                return "", [InboundAttachment(content_type="image/jpeg", ref=url, kind="image")]
        return "", []
    if kind == "link":
        link = content.get("link") or {}
        return _str(link.get("text")) or _str(link.get("url")) or "", []
    if kind == "item":
        item = content.get("item") or {}
        parts = [_str(item.get("title")), _str(item.get("item_url"))]
        return " ".join(p for p in parts if p), []
    if kind == "location":
        location = content.get("location") or {}
        return _str(location.get("text")) or _str(location.get("title")) or "", []
    return "", []  # voice, call, deleted, appCall, file...: nothing a reply could use


def parse_webhook(data: object, user_id: int) -> AvitoWebhook:
    """The customer's message in a notification; everything else is counted as ignored."""
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict) or payload.get("type") != "message":
        return AvitoWebhook([], 1)
    value = payload.get("value")
    if not isinstance(value, dict):
        return AvitoWebhook([], 1)
    message_id, chat_id = _str(value.get("id")), _str(value.get("chat_id"))
    kind, author = _str(value.get("type")), _str(value.get("author_id"))
    account = _str(value.get("user_id"))
    if message_id is None or chat_id is None or kind is None:
        return AvitoWebhook([], 1)
    if account is not None and account != str(user_id):
        return AvitoWebhook([], 1)  # a notification for another account
    if kind == "system" or author in (None, "0", str(user_id)):
        return AvitoWebhook([], 1)  # system notices and our own messages
    content = value.get("content")
    text, files = _text_and_files(kind, content if isinstance(content, dict) else {})
    if not text and not files:
        return AvitoWebhook([], 1)
    item = _str(value.get("item_id"))
    facts: dict[str, Any] = {"avito_chat_id": chat_id}
    if item is not None and item != "0":
        facts["avito_item_id"] = item
    message = InboundMessage(
        external_id=message_id,
        contact=InboundContact(external_id=chat_id),
        text=text,
        meta={"avito_type": kind, "avito_author_id": author},
        attachments=tuple(files),
        conversation_meta=facts,
    )
    return AvitoWebhook([message])


class AvitoChannelAdapter:
    type: ClassVar[ChannelType] = ChannelType.AVITO
    # no idempotency key at the provider: an interrupted send becomes ``unknown``
    resend_is_idempotent: ClassVar[bool] = False

    def __init__(self, config: AvitoChannelConfig, secret: str, timeout: float = 10.0) -> None:
        self._config = config
        self._secret = secret
        self._timeout = timeout

    def verify(self, token: str | None) -> None:
        """The secret token of the webhook URL, compared in constant time."""
        if not token:
            raise SignatureRejected("missing webhook token")
        if not hmac.compare_digest(token.encode(), self._secret.encode()):
            raise SignatureRejected("invalid webhook token")

    def parse(self, token: str | None, body: bytes) -> AvitoWebhook:
        self.verify(token)
        try:
            data = parse_json_body(body)
        except BadRequest:
            return AvitoWebhook([], 1)
        try:
            return parse_webhook(data, self._config.user_id)
        except (AttributeError, TypeError, ValueError):
            return AvitoWebhook([], 1)  # a field of an unexpected type: ignored

    def verify_and_parse(self, request: Any) -> list[InboundMessage]:
        """The channel Protocol's entry: the token comes in the ``x-frontline-token``
        header here (the webhook route reads it from the URL)."""
        return self.parse(request.headers.get("x-frontline-token"), request.body).messages

    def client(self) -> AvitoClient:
        cfg = self._config
        secret = cfg.client_secret.get_secret_value()
        return AvitoClient(str(cfg.api_base_url), cfg.client_id, secret, self._timeout)

    async def subscribe(self, url: str) -> None:
        """Ask Avito to POST new messages to ``url``."""
        await self.client().call("POST", "/messenger/v3/webhook", {"url": url})

    async def send(self, message: OutboundMessage) -> SendResult:
        path = (
            f"/messenger/v1/accounts/{self._config.user_id}"
            f"/chats/{quote(message.recipient_external_id, safe='-_.~')}/messages"
        )
        answer = await self.client().call(
            "POST", path, {"message": {"text": message.text}, "type": "text"}
        )
        sent = _str(answer.get("id"))
        if sent is None:
            raise Unavailable(f"Avito answered no message id: {answer!r:.200}")
        return SendResult(external_id=sent)

    async def fetch_attachment(self, ref: str, max_bytes: int) -> FetchedFile:
        """An image the customer sent: Avito gives its renditions' URLs (no token needed)."""
        return await self.client().download(ref, max_bytes)
