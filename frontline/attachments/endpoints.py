"""HTTP: staff read the files customers sent (``GET /api/v1/attachments/{id}``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from frontline.attachments import service
from frontline.attachments.sniff import inline_safe, served_type
from frontline.auth.deps import Operator
from frontline.deps import Session
from frontline.kit.params import PathId
from frontline.models import Attachment

router = APIRouter(tags=["attachments"])

# a file is never a page: nothing in it may run, even if a browser were to render it
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def content_disposition(filename: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(row: Attachment, data: bytes, *, cache_seconds: int = 3600) -> Response:
    """The bytes of a stored file, served safely: only the image types a browser shows
    without running anything are ``inline``; everything else is a download; HTML, SVG and
    programs go out as opaque bytes; ``nosniff`` stops a browser from guessing otherwise."""
    inline = inline_safe(row.content_type)
    return Response(
        content=data,
        media_type=served_type(row.content_type),
        headers={
            "Content-Disposition": content_disposition(row.filename, inline),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": FILE_CSP,
            "Cache-Control": f"private, max-age={cache_seconds}",
        },
    )


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    # served with its sniffed type (image/png, application/pdf, ...)
    responses={200: {"description": "the file", "content": {"*/*": {}}}},
)
async def get_attachment(attachment_id: PathId, subject: Operator, session: Session) -> Response:
    """A file a customer sent, to staff of its workspace (another workspace's: 404)."""
    row, data = await service.open_file(session, subject.scope, attachment_id)
    return file_response(row, data)
