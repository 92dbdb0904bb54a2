from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from frontline.attachments.sniff import inline_safe
from frontline.models import AttachmentStatus


class AttachmentOut(BaseModel):
    """An attachment as messages carry it. ``url`` is a path on this server (staff: with
    their credentials; the widget gets signed, short-lived links instead); it is ``None``
    until the file is stored. ``inline``: an image a browser may show in the page."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int | None
    status: str
    failure_reason: str | None = None
    inline: bool = False
    url: str | None = None


def staff_url(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}"


def attachment_out(row: Any) -> AttachmentOut:
    stored = row.status == AttachmentStatus.STORED.value
    return AttachmentOut(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        status=row.status,
        failure_reason=row.failure_reason,
        inline=stored and inline_safe(row.content_type),
        url=staff_url(row.id) if stored else None,
    )


class UploadOut(BaseModel):
    """A widget upload, to send with the next message (``attachments: [id]``)."""

    id: int
    filename: str
    content_type: str
    size: int
