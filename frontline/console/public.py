"""Public pages: the widget script any site embeds, and the demo page that shows it."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from frontline.demo import demo_widget_key
from frontline.deps import ServicesDep
from frontline.errors import NotFound

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"


@router.get("/widget.js")
async def widget_script() -> Response:
    """The widget: one script, no dependencies (see ``docs/widget.md``)."""
    body = (STATIC / "widget.js").read_bytes()
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
