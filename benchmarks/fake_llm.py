"""An OpenAI-compatible chat-completions server with a fixed latency, for benchmarks.

It answers every request after ``FAKE_LLM_LATENCY_MS`` (default 200) with a valid triage
result, and reports the time it spent in the ``X-Fake-Latency-Ms`` header.

``FAKE_LLM_FAILURE_RATE`` (default 0) makes that share of the calls fail, drawn from a seeded
generator (``FAKE_LLM_SEED``) and cycling through the ways a real provider fails: no answer
within ``FAKE_LLM_HANG_SECONDS`` (a timeout for the client), HTTP 500, HTTP 503, a 200 whose
body is not JSON, and a 200 whose message is not the JSON the client asked for. ``GET
/stats`` counts the calls by outcome.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

LATENCY = float(os.environ.get("FAKE_LLM_LATENCY_MS", "200")) / 1000
FAILURE_RATE = float(os.environ.get("FAKE_LLM_FAILURE_RATE", "0"))
HANG_SECONDS = float(os.environ.get("FAKE_LLM_HANG_SECONDS", "60"))
FAULTS = ("timeout", "http_500", "http_503", "garbage_body", "garbage_content")
_draw = random.Random(int(os.environ.get("FAKE_LLM_SEED", "16")))
STATS: Counter[str] = Counter()

ANSWER = {
    "full_name": None,
    "issue_summary": "price question",
    "decision": "full_answer",
    "draft_reply": "Тур на Байкал стоит 45 000 ₽ на человека.",
    "language": "ru",
    "citations": [],
    "handoff_reason": None,
}


def _fault() -> str | None:
    """The way this call fails, or ``None`` for a good answer."""
    if FAILURE_RATE <= 0 or _draw.random() >= FAILURE_RATE:
        return None
    return FAULTS[sum(STATS[f] for f in FAULTS) % len(FAULTS)]


async def completions(request: Request) -> Response:
    started = time.perf_counter()
    body = await request.json()
    fault = _fault()
    STATS[fault or "ok"] += 1
    if fault == "timeout":
        await asyncio.sleep(HANG_SECONDS)
    await asyncio.sleep(LATENCY)
    if fault in ("http_500", "http_503"):
        status = int(fault[-3:])
        return JSONResponse({"error": {"message": "upstream overloaded"}}, status_code=status)
    if fault == "garbage_body":
        return Response(b'{"id": "chatcmpl-bench", "choices": [', media_type="application/json")
    content = (
        "Sure! Here is the answer: {decision: full_answer"
        if fault == "garbage_content"
        else json.dumps(ANSWER, ensure_ascii=False)
    )
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "bench"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 400, "completion_tokens": 60, "total_tokens": 460},
    }
    spent = (time.perf_counter() - started) * 1000
    return JSONResponse(payload, headers={"X-Fake-Latency-Ms": f"{spent:.3f}"})


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def stats(_request: Request) -> JSONResponse:
    return JSONResponse(dict(STATS))


app = Starlette(
    routes=[
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/health", health),
        Route("/stats", stats),
    ]
)
