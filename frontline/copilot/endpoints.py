"""HTTP: the copilot beside an operator, one endpoint per action on a conversation.

Every action answers JSON, or with ``"stream": true`` (suggest, rewrite, translate) server-sent
events: ``delta`` ``{text}`` pieces while the provider writes, ``reset`` when a provider
failed mid-answer (drop what was shown), then ``done`` with the same body the JSON answer
has, or ``error`` ``{code, message}``. Nothing is sent to the customer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from frontline.aisettings import service as aisettings
from frontline.auth.deps import DetachedOperator
from frontline.copilot import service
from frontline.copilot.schemas import (
    DraftOut,
    RewriteIn,
    SuggestIn,
    SuggestOut,
    SummaryOut,
    TranslateIn,
)
from frontline.copilot.service import Context, CopilotUnavailable, Outcome, Rows
from frontline.deps import Services, ServicesDep
from frontline.errors import error_body
from frontline.kit.params import PathId

router = APIRouter(tags=["copilot"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "not the tenant's conversation (code `not_found`)"},
    409: {"description": "the conversation has no messages yet (code `conversation_empty`)"},
}
_DRAFT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    503: {"description": "no language model answered (code `ai_unavailable`)"},
}
_STREAM = {"content": {"text/event-stream": {}}, "description": "with `stream: true`"}


async def _record(services: Services, ctx: Context, rows: Rows) -> None:
    if rows:
        async with services.db.transaction() as session:
            await aisettings.record_calls(session, ctx.scope, rows)


def _streamed(
    services: Services,
    ctx: Context,
    chat: Any,
    result: Callable[[Outcome], tuple[BaseModel, Rows]],
) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        outcome: Outcome | None = None
        async for item in service.stream_outcome(ctx, chat, []):
            if isinstance(item, Outcome):
                outcome = item
            else:
                yield item
        assert outcome is not None
        try:
            out, rows = result(outcome)
        except CopilotUnavailable as exc:
            await _record(services, ctx, exc.rows)
            yield service.sse("error", error_body(exc.code, exc.message)["error"])
            return
        await _record(services, ctx, rows)
        yield service.sse("done", out.model_dump(mode="json"))

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def _context(
    subject: DetachedOperator, services: Services, conversation_id: PathId, sources: bool = False
) -> Context:
    """The action's context, read without a transaction; no connection is held while the
    model thinks (the log rows are written by a short transaction afterwards)."""
    async with services.db.reader() as session:
        ctx = await service.load(
            session, subject.scope, services.secret_box, services.breakers, conversation_id
        )
        if sources:
            await service.find_sources(session, services.secret_box, services.knowledge, ctx)
    return ctx


@router.post(
    "/conversations/{conversation_id}/copilot/suggest",
    response_model=SuggestOut,
    responses={**_ERRORS, 200: _STREAM},
)
async def suggest(
    conversation_id: PathId,
    body: SuggestIn,
    subject: DetachedOperator,
    services: ServicesDep,
) -> Any:
    """A reply the operator could send next, grounded in the knowledge base and the
    conversation, with the passages it was given (``cited``: the ones it used). When every
    provider is down the offline engine suggests from the knowledge base (``degraded``)."""
    ctx = await _context(subject, services, conversation_id, sources=True)
    if body.stream:
        return _streamed(
            services, ctx, service.suggest_chat(ctx), lambda o: service.suggest_result(ctx, o)
        )
    out, rows = await service.suggest(ctx)
    await _record(services, ctx, rows)
    return out


async def _draft(services: Services, ctx: Context, job: service.DraftJob, stream: bool) -> Any:
    if stream:
        return _streamed(services, ctx, job.chat, lambda o: service.draft_result(ctx, job, o))
    try:
        out, rows = await service.draft(ctx, job)
    except CopilotUnavailable as exc:
        await _record(services, ctx, exc.rows)  # the failed attempts are logged too
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)
    await _record(services, ctx, rows)
    return out


@router.post(
    "/conversations/{conversation_id}/copilot/rewrite",
    response_model=DraftOut,
    responses={**_DRAFT_ERRORS, 200: _STREAM},
)
async def rewrite(
    conversation_id: PathId,
    body: RewriteIn,
    subject: DetachedOperator,
    services: ServicesDep,
) -> Any:
    """The operator's draft rewritten (``shorter``, ``friendlier``, ``formal`` or
    ``spelling``); ``original`` is the draft, for undo."""
    ctx = await _context(subject, services, conversation_id)
    job = service.rewrite_job(ctx, body.text, body.mode)
    return await _draft(services, ctx, job, body.stream)


@router.post(
    "/conversations/{conversation_id}/copilot/translate",
    response_model=DraftOut,
    responses={**_DRAFT_ERRORS, 200: _STREAM},
)
async def translate(
    conversation_id: PathId,
    body: TranslateIn,
    subject: DetachedOperator,
    services: ServicesDep,
) -> Any:
    """The operator's draft translated to ``language`` (default: the customer's)."""
    ctx = await _context(subject, services, conversation_id)
    job = service.translate_job(ctx, body.text, body.language)
    return await _draft(services, ctx, job, body.stream)


@router.post(
    "/conversations/{conversation_id}/copilot/summary",
    response_model=SummaryOut,
    responses=_ERRORS,
)
async def summary(
    conversation_id: PathId, subject: DetachedOperator, services: ServicesDep
) -> SummaryOut:
    """The conversation so far in a few sentences and what the customer still needs
    (extractive when no model answers)."""
    ctx = await _context(subject, services, conversation_id)
    out, rows = await service.summarize(ctx)
    await _record(services, ctx, rows)
    return out
