"""The console's static assets under a versioned URL (cache busting for ES modules).

``/static/v/{version}/{path}`` serves ``console/static/{path}`` when ``version`` is the
current :func:`asset_version` (a digest of every file there), with a year of immutable
caching; any other version is a 404 that is not cached. The console page loads its entry
module from ``/static/v/<version>/console/main.js``, so the modules it imports by relative
URL carry the same version: after an upgrade the browser fetches a fresh module graph and
never mixes cached old modules with new ones. A request that reaches a process of another
version (a rolling upgrade) gets a 404 rather than content that would be cached under the
wrong version. The plain ``/static/...`` mount stays for the widget and older links.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from frontline import __version__

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
# explicit, so a platform's MIME table cannot turn a module away (browsers refuse a module
# script served as anything but JavaScript)
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def asset_version() -> str:
    """A short digest of the package version and every static file (names and bytes)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@router.get("/static/v/{version}/{path:path}")
async def versioned_asset(version: str, path: str) -> Response:
    """A script or style sheet under the current asset version (see the module docstring)."""
    root = STATIC.resolve()
    target = (root / path).resolve()
    media_type = _MEDIA_TYPES.get(target.suffix)
    if (
        version != asset_version()
        or media_type is None
        or not target.is_relative_to(root)
        or not target.is_file()
    ):
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return FileResponse(
        target,
        media_type=media_type,
        headers={"Cache-Control": _IMMUTABLE, "X-Content-Type-Options": "nosniff"},
    )
