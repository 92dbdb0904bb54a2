"""Public pages: the widget script any site embeds, and the demo page that shows it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from frontline.demo import demo_widget_key
from frontline.deps import ServicesDep
from frontline.errors import NotFound

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
WIDGET_PARTS = Path(__file__).parent / "widget"


@cache
def widget_source() -> bytes:
    """The widget script: its parts (fragments of one function body) joined in name order."""
    parts = sorted(WIDGET_PARTS.glob("*.js"))
    if not parts:
        raise RuntimeError(f"the widget's parts are missing from {WIDGET_PARTS}")
    return b"".join(part.read_bytes() for part in parts)


@router.get("/widget.js")
@router.get("/static/widget.js")  # the older address, before the /static mount sees it
async def widget_script() -> Response:
    """The widget: one script, no dependencies (see ``docs/widget.md``)."""
    body = widget_source()
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/demo")
async def demo_page(request: Request, services: ServicesDep) -> HTMLResponse:
    """A demo company page with the demo tenant's widget on it (``make run``)."""
    async with services.db.reader() as session:
        key = await demo_widget_key(session)
    if key is None:
        raise NotFound("no demo workspace here (run `frontline demo`)")
    base = str(request.base_url).rstrip("/")
    page = (STATIC / "demo.html").read_text(encoding="utf-8")
    page = page.replace("{{WIDGET_KEY}}", key).replace("{{FRONTLINE_URL}}", base)
    return HTMLResponse(page)
