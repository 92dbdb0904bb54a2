"""HTTP: the copilot beside an operator, one endpoint per action on a conversation.

Every action answers JSON, or with ``"stream": true`` (suggest, rewrite, translate) server-sent
events: ``delta`` ``{text}`` pieces while the provider writes, ``reset`` when a provider
failed mid-answer (drop what was shown), then ``done`` with the same body the JSON answer
has, or ``error`` ``{code, message}``. Nothing is sent to the customer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from frontline.aisettings import service as aisettings
from frontline.auth.deps import DetachedOperator, Subject
from frontline.copilot import booking as prefill
from frontline.copilot import service
from frontline.copilot.schemas import (
    BookingDraftOut,
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
    409: {
        "description": "the conversation has no messages yet (code `conversation_empty`), or "
        "moderation held every one of them (code `conversation_held`: a held message is "
        "never sent to a model)"
    },
}
_DRAFT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {
        "description": "the conversation has no messages yet (code `conversation_empty`), or"
        " the workspace has no language model (code `ai_not_configured`)"
    },
    503: {"description": "every language model is down (code `ai_unavailable`)"},
}
_STREAM = {"content": {"text/event-stream": {}}, "description": "with `stream: true`"}


@dataclass
class Action:
    """One copilot request: the conversation it is about, who asks, and the shared steps
    of every action (read the context, log the calls, answer JSON or a stream). A
    dependency that reads nothing by itself, so a malformed body is a 422 before the
    conversation is looked at."""

    conversation_id: int
    subject: Subject
    services: Services

    async def context(self, sources: bool = False, drafting: bool = False) -> Context:
        """The action's context (404/409), read without a transaction; no connection is
        held while the model thinks (the log rows are written by a short transaction
        afterwards). ``drafting``: the model gets the operator's draft only (a
        conversation whose messages moderation held all can still be answered)."""
        services = self.services
        async with services.db.reader() as session:
            ctx = await service.load(
                session,
                self.subject.scope,
                services.secret_box,
                services.breakers,
                self.conversation_id,
                deadline_seconds=services.settings.ai_provider_timeout_seconds,
                drafting=drafting,
            )
            if sources:
                await service.find_sources(session, services.secret_box, services.knowledge, ctx)
        return ctx

    async def record(self, ctx: Context, rows: Rows) -> None:
        if rows:
            async with self.services.db.transaction() as session:
                await aisettings.record_calls(session, ctx.scope, rows)

    async def logged(self, ctx: Context, done: tuple[BaseModel, Rows]) -> BaseModel:
        out, rows = done
        await self.record(ctx, rows)
        return out

    def streamed(
        self, ctx: Context, chat: Any, result: Callable[[Outcome], tuple[BaseModel, Rows]]
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
                await self.record(ctx, exc.rows)
                yield service.sse("error", error_body(exc.code, exc.message)["error"])
                return
            await self.record(ctx, rows)
            yield service.sse("done", out.model_dump(mode="json"))

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    async def draft(self, ctx: Context, job: service.DraftJob, stream: bool) -> Any:
        """A rewrite or a translation: streamed, or JSON (503 when no model answered, the
        failed attempts logged all the same)."""
        if stream:
            return self.streamed(ctx, job.chat, lambda o: service.draft_result(ctx, job, o))
        try:
            done = await service.draft(ctx, job)
        except CopilotUnavailable as exc:
            await self.record(ctx, exc.rows)
            return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)
        return await self.logged(ctx, done)


def _action(conversation_id: PathId, subject: DetachedOperator, services: ServicesDep) -> Action:
    return Action(conversation_id, subject, services)


Copilot = Annotated[Action, Depends(_action)]


@router.post(
    "/conversations/{conversation_id}/copilot/suggest",
    response_model=SuggestOut,
    responses={**_ERRORS, 200: _STREAM},
)
async def suggest(body: SuggestIn, action: Copilot) -> Any:
    """A reply the operator could send next, grounded in the knowledge base and the
    conversation, with the passages it was given (``cited``: the ones it used). When every
    provider is down the offline engine suggests from the knowledge base (``degraded``)."""
    ctx = await action.context(sources=True)
    if body.stream:
        return action.streamed(
            ctx, service.suggest_chat(ctx), lambda o: service.suggest_result(ctx, o)
        )
    return await action.logged(ctx, await service.suggest(ctx))


@router.post(
    "/conversations/{conversation_id}/copilot/rewrite",
    response_model=DraftOut,
    responses={**_DRAFT_ERRORS, 200: _STREAM},
)
async def rewrite(body: RewriteIn, action: Copilot) -> Any:
    """The operator's draft rewritten (``shorter``, ``friendlier``, ``formal`` or
    ``spelling``); ``original`` is the draft, for undo."""
    ctx = await action.context(drafting=True)
    return await action.draft(ctx, service.rewrite_job(ctx, body.text, body.mode), body.stream)


@router.post(
    "/conversations/{conversation_id}/copilot/translate",
    response_model=DraftOut,
    responses={**_DRAFT_ERRORS, 200: _STREAM},
)
async def translate(body: TranslateIn, action: Copilot) -> Any:
    """The operator's draft translated to ``language`` (default: the customer's)."""
    ctx = await action.context(drafting=True)
    job = service.translate_job(ctx, body.text, body.language)
    return await action.draft(ctx, job, body.stream)


@router.post(
    "/conversations/{conversation_id}/copilot/summary",
    response_model=SummaryOut,
    responses=_ERRORS,
)
async def summary(action: Copilot) -> Any:
    """The conversation so far in a few sentences and what the customer still needs
    (extractive when no model answers). The summary made when the conversation was handed
    off is stored with it (``meta.handoff_summary`` of the conversation); this makes a
    fresh one."""
    ctx = await action.context()
    return await action.logged(ctx, await service.summarize(ctx))


@router.post(
    "/conversations/{conversation_id}/copilot/booking",
    response_model=BookingDraftOut,
    responses={
        404: _ERRORS[404],
        409: {
            "description": "no messages yet (code `conversation_empty`), every message held "
            "by moderation (code `conversation_held`) or nothing bookable "
            "(code `no_bookable_resources`)"
        },
    },
)
async def booking(action: Copilot) -> Any:
    """A booking pre-filled from the conversation (resource, departure or dates, guests,
    name, phone, e-mail) by the bookings domain's extraction, a remote model filling what
    the rules miss; ``missing`` lists what the chat does not say. Nothing is booked: the
    operator checks the form and saves it with ``POST /bookings`` (``conversation_id``
    links the booking to the conversation and its contact)."""
    ctx = await action.context()
    async with action.services.db.reader() as session:
        names = await prefill.resource_names(session, ctx)
    outcome = await prefill.read(ctx, names)
    async with action.services.db.reader() as session:
        done = await prefill.draft(session, ctx, outcome)
    return await action.logged(ctx, done)
