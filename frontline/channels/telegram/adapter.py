"""Telegram channel adapter.

Inbound: Telegram POSTs each ``Update`` to ``/api/v1/webhooks/telegram/{channel_id}`` with
``X-Telegram-Bot-Api-Secret-Token`` = the channel secret (given to Telegram by
``setWebhook``), compared in constant time; or ``frontline telegram poll`` reads them with
``getUpdates``. Outbound: ``sendMessage`` to the customer's chat, split at 4096 characters,
one message per chat per ``chat_pacing_seconds`` (Telegram's advice: about one per second
in a chat; bursts get 429 with ``retry_after``).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, ClassVar, Literal

from pydantic import AnyHttpUrl, ConfigDict, Field, SecretStr, field_validator

from frontline.channels.base import (
    BadRequest,
    ChannelConfig,
    ChannelType,
    FetchedFile,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    SendResult,
    SignatureRejected,
)
from frontline.channels.telegram.botapi import DEFAULT_API_BASE, MAX_DOWNLOAD_BYTES, BotApi
from frontline.channels.telegram.updates import ParsedUpdate, parse_body
from frontline.kit import textsplit
from frontline.kit.crypto import constant_time_equals

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
MAX_MESSAGE_CHARS = 4096  # sendMessage text, in UTF-16 code units
# the update types the channel asks Telegram for (setWebhook / getUpdates)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
_TOKEN_PATTERN = r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$"  # noqa: S105 - a pattern


class TelegramChannelConfig(ChannelConfig):
    model_config = ConfigDict(extra="forbid")

    bot_token: SecretStr
    api_base_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_API_BASE)
    # webhook: Telegram calls us (needs a public HTTPS URL); poll: `frontline telegram poll`
    mode: Literal["webhook", "poll"] = "webhook"
    chat_pacing_seconds: float = Field(default=1.0, ge=0, le=60)
    # the answer to /start (default: a short greeting in the customer's language)
    welcome_text: str | None = Field(default=None, min_length=1, max_length=4096)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(_TOKEN_PATTERN, value.get_secret_value()):
            raise ValueError("bot_token must look like 123456789:AAE... (from @BotFather)")
        return value


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 code units, cut at a line break or a
    space in the last fifth of a part when there is one."""
    return textsplit.split_text(text, limit, utf16_len)


# per-chat pacing across the process: the next free slot of each (bot, chat)
_next_slot: dict[tuple[str, str], float] = {}
# parts of a split message already sent, by idempotency key: a retry (after a 429 on a
# later part) resumes instead of repeating them
_sent_parts: dict[str, tuple[int, str]] = {}
_MAX_TRACKED = 10_000


async def pace(bot: str, chat: str, interval: float) -> None:
    """Wait for this chat's next slot (reserved before waiting, so concurrent sends to one
    chat queue up one ``interval`` apart)."""
    if interval <= 0:
        return
    now = time.monotonic()
    if len(_next_slot) > _MAX_TRACKED:
        for key in [k for k, v in _next_slot.items() if v < now]:
            del _next_slot[key]
    slot = max(now, _next_slot.get((bot, chat), 0.0))
    _next_slot[(bot, chat)] = slot + interval
    if slot > now:
        await asyncio.sleep(slot - now)


class TelegramChannelAdapter:
    type: ClassVar[ChannelType] = ChannelType.TELEGRAM
    # no idempotency key at the provider: an interrupted send becomes ``unknown``
    resend_is_idempotent: ClassVar[bool] = False

    def __init__(self, config: TelegramChannelConfig, secret: str, timeout: float = 10.0):
        self._config = config
        self._secret = secret
        token = config.bot_token.get_secret_value()
        self._bot_id = token.split(":", 1)[0]
        self.api = BotApi(token, str(config.api_base_url), timeout)

    @property
    def mode(self) -> str:
        return self._config.mode

    @property
    def welcome_text(self) -> str | None:
        return self._config.welcome_text

    def verify(self, request: InboundRequest) -> None:
        token = request.headers.get(SECRET_HEADER, "")
        if not token or not constant_time_equals(token, self._secret):
            raise SignatureRejected("invalid X-Telegram-Bot-Api-Secret-Token")

    def verify_and_parse_update(self, request: InboundRequest) -> ParsedUpdate:
        self.verify(request)
        return parse_body(request.body)

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        parsed = self.verify_and_parse_update(request)
        return [parsed.message] if parsed.message is not None else []

    async def send(self, message: OutboundMessage) -> SendResult:
        chat = message.recipient_external_id
        parts = split_text(message.text)
        done, first_id = _sent_parts.get(message.idempotency_key, (0, ""))
        for index in range(done, len(parts)):
            await pace(self._bot_id, chat, self._config.chat_pacing_seconds)
            result = await self.api.call("sendMessage", {"chat_id": chat, "text": parts[index]})
            if index == 0:
                first_id = f"{chat}:{_message_id(result)}"
            if index + 1 < len(parts):
                if len(_sent_parts) > _MAX_TRACKED:
                    _sent_parts.clear()
                _sent_parts[message.idempotency_key] = (index + 1, first_id)
        _sent_parts.pop(message.idempotency_key, None)
        return SendResult(external_id=first_id or None)

    async def send_keyboard(
        self, chat_id: str | int, text: str, rows: list[list[dict[str, str]]]
    ) -> Any:
        """A message with an inline keyboard (``rows`` of ``{"text", "callback_data"}``)."""
        await pace(self._bot_id, str(chat_id), self._config.chat_pacing_seconds)
        return await self.api.call(
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": split_text(text)[0],
                "reply_markup": {"inline_keyboard": rows},
            },
        )

    async def fetch_attachment(self, ref: str, max_bytes: int) -> FetchedFile:
        info = await self.api.call("getFile", {"file_id": ref})
        if not isinstance(info, dict) or not isinstance(info.get("file_path"), str):
            raise BadRequest("Telegram returned no file_path (the file is gone or too big)")
        declared = info.get("file_size")
        limit = min(max_bytes, MAX_DOWNLOAD_BYTES)
        if isinstance(declared, int) and declared > limit:
            raise BadRequest(f"the file is larger than {limit} bytes")
        data = await self.api.download(info["file_path"], limit)
        # no filename: the customer's own (``document.file_name``) was kept on receipt, and
        # Telegram's ``file_path`` name (file_13.pdf) says nothing more
        return FetchedFile(data=data)

    async def register_webhook(self, url: str, secret: str) -> None:
        """Point Telegram at ``url`` with ``secret`` as its secret token (webhook mode), or
        remove any webhook (poll mode: ``getUpdates`` is refused while one is set)."""
        if self._config.mode == "poll":
            await self.api.call("deleteWebhook", {"drop_pending_updates": False})
            return
        await self.api.call(
            "setWebhook",
            {"url": url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES},
        )

    async def unregister_webhook(self) -> None:
        """Stop Telegram posting updates (the channel was switched off); updates not yet
        delivered stay at Telegram, for a later webhook or ``getUpdates``."""
        await self.api.call("deleteWebhook", {"drop_pending_updates": False})


def _message_id(result: object) -> str:
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return str(result["message_id"])
    return ""
