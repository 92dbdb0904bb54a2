"""An OpenAI-compatible chat-completions server with a fixed latency, for benchmarks.

It answers every request after ``FAKE_LLM_LATENCY_MS`` (default 200) with a valid triage
result, and reports the time it spent in the ``X-Fake-Latency-Ms`` header.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LATENCY = float(os.environ.get("FAKE_LLM_LATENCY_MS", "200")) / 1000

ANSWER = {
    "full_name": None,
    "issue_summary": "price question",
    "decision": "full_answer",
    "draft_reply": "Тур на Байкал стоит 45 000 ₽ на человека.",
    "language": "ru",
    "citations": [],
    "handoff_reason": None,
}


async def completions(request: Request) -> JSONResponse:
    started = time.perf_counter()
    body = await request.json()
    await asyncio.sleep(LATENCY)
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "bench"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(ANSWER, ensure_ascii=False)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 400, "completion_tokens": 60, "total_tokens": 460},
    }
    spent = (time.perf_counter() - started) * 1000
    return JSONResponse(payload, headers={"X-Fake-Latency-Ms": f"{spent:.3f}"})


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/health", health),
    ]
)
