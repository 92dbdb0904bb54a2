"""WhatsApp Cloud API channel adapter.

Inbound: Meta POSTs ``{"object": "whatsapp_business_account", "entry": [{"changes":
[{"field": "messages", "value": {"metadata", "contacts", "messages", "statuses"}}]}]}`` to
``/api/v1/webhooks/whatsapp/{channel_id}``, signed with ``X-Hub-Signature-256: sha256=<hex
HMAC-SHA256(app secret, raw body)>``. Each message's ``id`` (the ``wamid``) is its external
id, so a redelivery is a no-op. ``statuses[]`` report what became of our own messages.

Outbound: text messages through :mod:`frontline.channels.whatsapp.client`; the answer's
``wamid`` becomes the message's external id, which later statuses name.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import AnyHttpUrl, ConfigDict, Field, SecretStr

from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    BadRequest,
    ChannelConfig,
    ChannelType,
    FetchedFile,
    InboundAttachment,
    InboundContact,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    SendResult,
    SignatureRejected,
    Unavailable,
    parse_json_body,
)
from frontline.channels.whatsapp.client import GraphClient, fetch_media
from frontline.kit import textsplit

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-hub-signature-256"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
MAX_TEXT_CHARS = 4096  # the Cloud API's limit for a text message body
# echoed back in ``statuses[]``: names our message even before its wamid is recorded
CALLBACK_PREFIX = "frontline:"


class WhatsAppChannelConfig(ChannelConfig):
    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9]+$")
    access_token: SecretStr = Field(min_length=1)
    app_secret: SecretStr = Field(min_length=1)
    verify_token: SecretStr = Field(min_length=1)
    graph_base_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_GRAPH_URL)
    graph_api_version: str = Field(default="v21.0", pattern=r"^v[0-9]+\.[0-9]+$")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One entry of ``statuses[]``: what became of a message we sent."""

    wamid: str
    status: str  # sent | delivered | read | failed
    message_id: int | None = None  # ours, from biz_opaque_callback_data
    error: str | None = None  # "131047: Re-engagement message" for failed


@dataclass(frozen=True, slots=True)
class WebhookContent:
    messages: list[InboundMessage]
    statuses: list[DeliveryReport]
    ignored: int = 0  # entries of kinds we do not handle (logged)


def expected_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _attachment(kind: str, media: dict[str, Any]) -> InboundAttachment | None:
    media_id = _str(media.get("id"))
    if media_id is None:
        return None
    return InboundAttachment(
        filename=_str(media.get("filename")),
        content_type=_str(media.get("mime_type")),
        ref=media_id,
        kind="image" if kind in ("image", "sticker") else kind if kind != "document" else "file",
    )


def _message(raw: dict[str, Any], names: dict[str, str]) -> InboundMessage | None:
    """One entry of ``messages[]`` as an inbound message; ``None`` for what carries nothing
    a person wrote (reactions, unsupported types, system notices)."""
    wamid, sender, kind = _str(raw.get("id")), _str(raw.get("from")), _str(raw.get("type"))
    if wamid is None or sender is None or kind is None:
        return None
    text = ""
    files: list[InboundAttachment] = []
    meta: dict[str, Any] = {"whatsapp_type": kind}
    if kind == "text":
        text = _str((raw.get("text") or {}).get("body")) or ""
    elif kind in ("image", "document", "audio", "video", "sticker"):
        media = raw.get(kind)
        if isinstance(media, dict):
            text = _str(media.get("caption")) or ""
            found = _attachment(kind, media)
            if found is not None:
                files.append(found)
    elif kind == "interactive":
        interactive = raw.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        text = _str(reply.get("title")) or ""
        if _str(reply.get("id")):
            meta["reply_id"] = reply["id"]
    elif kind == "button":  # a quick-reply button of a template
        button = raw.get("button") or {}
        text = _str(button.get("text")) or ""
        if _str(button.get("payload")):
            meta["reply_id"] = button["payload"]
    elif kind == "location":
        loc = raw.get("location") or {}
        parts = [_str(loc.get("name")), _str(loc.get("address"))]
        coords = f"{loc.get('latitude')}, {loc.get('longitude')}"
        text = " — ".join(p for p in parts if p) or coords
    if not text and not files:
        return None
    context = raw.get("context")
    refs = (context["id"],) if isinstance(context, dict) and _str(context.get("id")) else ()
    return InboundMessage(
        external_id=wamid,
        contact=InboundContact(external_id=sender, name=names.get(sender), phone=f"+{sender}"),
        text=text,
        thread_refs=refs,
        meta=meta,
        attachments=tuple(files[:MAX_ATTACHMENTS_PER_MESSAGE]),
    )


def _status(raw: dict[str, Any]) -> DeliveryReport | None:
    wamid, status = _str(raw.get("id")), _str(raw.get("status"))
    if wamid is None or status not in ("sent", "delivered", "read", "failed"):
        return None
    message_id = None
    opaque = _str(raw.get("biz_opaque_callback_data")) or ""
    if opaque.startswith(CALLBACK_PREFIX) and opaque[len(CALLBACK_PREFIX) :].isdigit():
        message_id = int(opaque[len(CALLBACK_PREFIX) :])
    error = None
    errors = raw.get("errors")
    if status == "failed" and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        details = (first.get("error_data") or {}).get("details")
        error = f"{first.get('code')}: {first.get('title') or first.get('message') or ''}"
        if details:
            error += f" ({details})"
    elif status == "failed":
        error = "failed"
    return DeliveryReport(wamid=wamid, status=status, message_id=message_id, error=error)


def parse_webhook(data: object, phone_number_id: str) -> WebhookContent:
    """The messages and statuses of a webhook body; anything malformed, of another phone
    number or of another field is counted as ignored (the provider gets 200 regardless, so
    it does not retry an update we can never take)."""
    messages: list[InboundMessage] = []
    statuses: list[DeliveryReport] = []
    ignored = 0
    entries = data.get("entry") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return WebhookContent([], [], 1)
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            ignored += 1
            continue
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                ignored += 1
                continue
            metadata = value.get("metadata") or {}
            if str(metadata.get("phone_number_id", "")) != phone_number_id:
                ignored += 1  # another number of the same business account
                continue
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name"))
                for c in value.get("contacts") or []
                if isinstance(c, dict) and (c.get("profile") or {}).get("name")
            }
            for raw in value.get("messages") or []:
                found = _message(raw, names) if isinstance(raw, dict) else None
                if found is None:
                    ignored += 1
                else:
                    messages.append(found)
            for raw in value.get("statuses") or []:
                report = _status(raw) if isinstance(raw, dict) else None
                if report is None:
                    ignored += 1
                else:
                    statuses.append(report)
    return WebhookContent(messages, statuses, ignored)


# parts of a split message already sent in this process, by idempotency key: a retry
# (after a 429 on a later part) resumes instead of repeating them
_sent_parts: dict[str, tuple[int, str]] = {}
_MAX_TRACKED = 10_000


class WhatsAppChannelAdapter:
    type: ClassVar[ChannelType] = ChannelType.WHATSAPP
    # no idempotency key at the provider: an interrupted send becomes ``unknown``
    resend_is_idempotent: ClassVar[bool] = False

    def __init__(self, config: WhatsAppChannelConfig, timeout: float = 10.0) -> None:
        self._config = config
        self._timeout = timeout

    def verify_challenge(self, mode: str | None, token: str | None) -> bool:
        """The subscription handshake (``GET`` with ``hub.mode=subscribe``)."""
        expected = self._config.verify_token.get_secret_value()
        return (
            mode == "subscribe"
            and token is not None
            and hmac.compare_digest(token.encode(), expected.encode())
        )

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Hub-Signature-256`` in constant time; :class:`SignatureRejected`."""
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            raise SignatureRejected("missing X-Hub-Signature-256")
        expected = expected_signature(self._config.app_secret.get_secret_value(), request.body)
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise SignatureRejected("invalid X-Hub-Signature-256")

    def parse(self, request: InboundRequest) -> WebhookContent:
        """Verify, then parse; a body that is no JSON is ignored like any malformed one."""
        self.verify(request)
        try:
            data = parse_json_body(request.body)
        except BadRequest:
            return WebhookContent([], [], 1)
        try:
            return parse_webhook(data, self._config.phone_number_id)
        except (AttributeError, TypeError, ValueError):
            # a field of an unexpected type somewhere: the update as a whole is ignored
            return WebhookContent([], [], 1)

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        return self.parse(request).messages

    def _client(self) -> GraphClient:
        return GraphClient(
            str(self._config.graph_base_url),
            self._config.graph_api_version,
            self._config.access_token.get_secret_value(),
            self._timeout,
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        """One text message, or several in order when longer than the Cloud API's
        ``MAX_TEXT_CHARS`` (cut as Telegram's are). The result names the first part's
        ``wamid``; a retry after a later part failed resumes after the parts sent."""
        client = self._client()
        url = client.url(self._config.phone_number_id, "messages")
        parts = textsplit.split_text(message.text, MAX_TEXT_CHARS)
        done, first = _sent_parts.get(message.idempotency_key, (0, ""))
        for index in range(done, len(parts)):
            payload = {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": message.recipient_external_id,
                "type": "text",
                "text": {"preview_url": False, "body": parts[index]},
                "biz_opaque_callback_data": f"{CALLBACK_PREFIX}{message.message_id}",
            }
            answer = await client.post_json(url, payload)
            sent = answer.get("messages")
            wamid = sent[0].get("id") if isinstance(sent, list) and sent else None
            if not isinstance(wamid, str) or not wamid:
                error = Unavailable(f"the Graph API answered no message id: {answer!r:.200}")
                error.may_have_arrived = True  # a success answer: it may have been taken
                raise error
            if index == 0:
                first = wamid
            if index + 1 < len(parts):
                if len(_sent_parts) > _MAX_TRACKED:
                    _sent_parts.clear()
                _sent_parts[message.idempotency_key] = (index + 1, first)
        _sent_parts.pop(message.idempotency_key, None)
        return SendResult(external_id=first)

    async def fetch_attachment(self, ref: str, max_bytes: int) -> FetchedFile:
        return await fetch_media(self._client(), ref, max_bytes)
