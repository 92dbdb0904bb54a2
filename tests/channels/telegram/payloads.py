"""Telegram ``Update`` objects in the shape the Bot API documents
(https://core.telegram.org/bots/api#update, #message, #callbackquery, #photosize,
#document), as Telegram posts them to a webhook."""

from __future__ import annotations

from typing import Any

USER = {
    "id": 555000111,
    "is_bot": False,
    "first_name": "Ирина",
    "last_name": "Соколова",
    "username": "irina_s",
    "language_code": "ru",
}
CHAT = {
    "id": 555000111,
    "first_name": "Ирина",
    "last_name": "Соколова",
    "username": "irina_s",
    "type": "private",
}


def text_update(
    update_id: int, message_id: int, text: str, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    sender = user or USER
    chat = {**CHAT, "id": sender["id"]} if user else CHAT
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": 1765000000,
            "text": text,
            **(
                {"entities": [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


def photo_update(update_id: int, message_id: int, caption: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": USER,
        "chat": CHAT,
        "date": 1765000100,
        "photo": [
            {
                "file_id": "AgAC-small",
                "file_unique_id": "AQADs",
                "file_size": 1200,
                "width": 90,
                "height": 67,
            },
            {
                "file_id": "AgAC-large",
                "file_unique_id": "AQADl",
                "file_size": 51234,
                "width": 1280,
                "height": 960,
            },
        ],
    }
    if caption is not None:
        message["caption"] = caption
    return {"update_id": update_id, "message": message}


def document_update(update_id: int, message_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": USER,
            "chat": CHAT,
            "date": 1765000200,
            "document": {
                "file_name": "passport.pdf",
                "mime_type": "application/pdf",
                "file_id": "BQAC-doc",
                "file_unique_id": "AgADd",
                "file_size": 64,
            },
            "caption": "Скан паспорта",
        },
    }


def edited_update(update_id: int, message_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "edited_message": {
            "message_id": message_id,
            "from": USER,
            "chat": CHAT,
            "date": 1765000000,
            "edit_date": 1765000300,
            "text": text,
        },
    }


def channel_post(update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "channel_post": {
            "message_id": 7,
            "sender_chat": {"id": -1001234567890, "title": "News", "type": "channel"},
            "chat": {"id": -1001234567890, "title": "News", "type": "channel"},
            "date": 1765000000,
            "text": "Announcement",
        },
    }


def callback_update(
    update_id: int,
    data: str,
    user: dict[str, Any] | None = None,
    message_id: int = 1001,
    chat_id: int | None = None,
) -> dict[str, Any]:
    sender = user or USER
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"4382bfdwdsb323b2d9{update_id}",
            "from": sender,
            "message": {
                "message_id": message_id,
                "from": {"id": 123456789, "is_bot": True, "first_name": "Frontline"},
                "chat": {"id": chat_id if chat_id is not None else sender["id"], "type": "private"},
                "date": 1765000400,
                "text": "…",
            },
            "chat_instance": "-8174663911297447734",
            "data": data,
        },
    }
