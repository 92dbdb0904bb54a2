"""Telegram ``Update`` objects (https://core.telegram.org/bots/api#update) parsed into
channel-neutral events. Pure: no I/O.

What is kept: private-chat ``message`` and ``edited_message`` updates with text, a caption
or files (photo, document, video, audio, voice), ``callback_query`` (inline keyboard
buttons). What is ignored, with the reason: channel posts, group chats, messages from bots,
service messages without text or files, any other update type, and malformed JSON.

A message's external id is ``<chat id>:<message id>`` (message ids are unique per chat),
so a redelivered update is stored once; an edit is stored as a new message
``<chat id>:<message id>:edit:<edit_date>`` that names the original in its meta.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    InboundAttachment,
    InboundContact,
    InboundMessage,
)

MAX_TEXT_CHARS = 20_000
# the file kinds a message may carry, with what Frontline calls them
_FILE_FIELDS = {
    "document": "file",
    "video": "video",
    "audio": "audio",
    "voice": "audio",
    "animation": "video",
}


@dataclass(frozen=True, slots=True)
class Callback:
    """A press of an inline keyboard button."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    update_id: int | None
    message: InboundMessage | None = None
    callback: Callback | None = None
    ignored: str | None = None  # why nothing is done with it


def parse_body(body: bytes) -> ParsedUpdate:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ParsedUpdate(None, ignored="malformed JSON")
    return parse_update(data)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_update(data: object) -> ParsedUpdate:
    if not isinstance(data, dict):
        return ParsedUpdate(None, ignored="the update is not a JSON object")
    update_id = _int(data.get("update_id"))
    if update_id is None:
        return ParsedUpdate(None, ignored="the update has no update_id")
    if "channel_post" in data or "edited_channel_post" in data:
        return ParsedUpdate(update_id, ignored="channel post")
    if "callback_query" in data:
        return _callback(update_id, data["callback_query"])
    edited = "edited_message" in data
    message = data.get("edited_message" if edited else "message")
    if message is None:
        kinds = sorted(k for k in data if k != "update_id")
        return ParsedUpdate(update_id, ignored=f"unhandled update type {kinds}")
    return _message(update_id, message, edited)


def _callback(update_id: int, query: object) -> ParsedUpdate:
    if not isinstance(query, dict):
        return ParsedUpdate(update_id, ignored="malformed callback_query")
    sender = query.get("from")
    user_id = _int(sender.get("id")) if isinstance(sender, dict) else None
    query_id, data = query.get("id"), query.get("data")
    if user_id is None or not isinstance(query_id, str) or not isinstance(data, str):
        return ParsedUpdate(update_id, ignored="callback_query without id, sender or data")
    message = query.get("message")
    chat_id = message_id = None
    if isinstance(message, dict):
        message_id = _int(message.get("message_id"))
        chat = message.get("chat")
        chat_id = _int(chat.get("id")) if isinstance(chat, dict) else None
    return ParsedUpdate(
        update_id, callback=Callback(query_id, user_id, chat_id, message_id, data[:64])
    )


def _message(update_id: int, message: object, edited: bool) -> ParsedUpdate:
    if not isinstance(message, dict):
        return ParsedUpdate(update_id, ignored="malformed message")
    chat, sender = message.get("chat"), message.get("from")
    message_id = _int(message.get("message_id"))
    if not isinstance(chat, dict) or message_id is None or _int(chat.get("id")) is None:
        return ParsedUpdate(update_id, ignored="message without chat or message_id")
    if chat.get("type") != "private":
        return ParsedUpdate(update_id, ignored=f"{chat.get('type')} chat")
    if not isinstance(sender, dict) or sender.get("is_bot") is True:
        return ParsedUpdate(update_id, ignored="sent by a bot")
    chat_id = int(chat["id"])
    text = message.get("text") or message.get("caption") or ""
    if not isinstance(text, str):
        return ParsedUpdate(update_id, ignored="malformed text")
    files = _files(message, message_id)
    if not text.strip() and not files:
        return ParsedUpdate(update_id, ignored="no text or file (service message, sticker...)")
    key = f"{chat_id}:{message_id}"
    meta: dict[str, Any] = {"telegram": {"chat_id": chat_id, "message_id": message_id}}
    if isinstance(sender.get("username"), str):
        meta["telegram"]["username"] = sender["username"]
    if isinstance(sender.get("language_code"), str):
        meta["telegram"]["language_code"] = sender["language_code"][:10]
    if text.startswith("/start"):
        meta["command"] = "start"
        param = text[len("/start") :].strip()
        if param:
            meta["start_param"] = param[:64]
    external_id = key
    if edited:
        edit_date = _int(message.get("edit_date")) or update_id
        external_id = f"{key}:edit:{edit_date}"
        meta["edited"] = True
        meta["original_external_id"] = key
    name = " ".join(
        str(sender.get(k)) for k in ("first_name", "last_name") if isinstance(sender.get(k), str)
    ).strip()
    if not name and isinstance(sender.get("username"), str):
        name = "@" + sender["username"]
    contact = InboundContact(external_id=str(chat_id), name=name[:200] or None)
    return ParsedUpdate(
        update_id,
        message=InboundMessage(
            external_id=external_id,
            contact=contact,
            text=text[:MAX_TEXT_CHARS],
            meta=meta,
            attachments=files,
        ),
    )


def _files(message: dict[str, Any], message_id: int) -> tuple[InboundAttachment, ...]:
    found: list[InboundAttachment] = []
    photos = message.get("photo")
    if isinstance(photos, list):
        sizes = [p for p in photos if isinstance(p, dict) and isinstance(p.get("file_id"), str)]
        if sizes:
            # the same picture in several sizes: keep the largest
            best = max(
                sizes, key=lambda p: (_int(p.get("width")) or 0) * (_int(p.get("height")) or 0)
            )
            found.append(
                InboundAttachment(
                    filename=f"photo_{message_id}.jpg",
                    content_type="image/jpeg",
                    size=_int(best.get("file_size")),
                    ref=best["file_id"],
                    kind="image",
                )
            )
    for field_name, kind in _FILE_FIELDS.items():
        item = message.get(field_name)
        if not isinstance(item, dict) or not isinstance(item.get("file_id"), str):
            continue
        name = item.get("file_name")
        mime = item.get("mime_type")
        found.append(
            InboundAttachment(
                filename=name[:255] if isinstance(name, str) else None,
                content_type=mime[:200] if isinstance(mime, str) else None,
                size=_int(item.get("file_size")),
                ref=item["file_id"],
                kind=kind,
            )
        )
    return tuple(found[:MAX_ATTACHMENTS_PER_MESSAGE])


def answer_callback(callback_id: str, text: str | None = None) -> dict[str, Any]:
    """``answerCallbackQuery`` as a method call (a webhook may answer with it in its
    response body; the poller makes the call)."""
    call: dict[str, Any] = {"method": "answerCallbackQuery", "callback_query_id": callback_id}
    if text:
        call["text"] = text[:200]
    return call
