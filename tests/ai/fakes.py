"""Local fake LLM servers: one Starlette app, served by uvicorn on a free 127.0.0.1 port in a
background thread, speaking the OpenAI chat-completions and embeddings protocols (also
OpenRouter and self-hosted servers), GigaChat's OAuth + chat + embeddings API and YandexGPT's
completion and textEmbedding APIs.

Answers are recorded-style payloads. A test scripts what comes next per route with
:meth:`FakeLLMServer.script` (status, body, headers, delay, streamed lines) and reads what
arrived from :attr:`FakeLLMServer.received`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from frontline.ai.base import ProviderKind

OPENAI_PATH = "/openai/v1/chat/completions"
GIGA_AUTH_PATH = "/gigachat/api/v2/oauth"
GIGA_CHAT_PATH = "/gigachat/api/v1/chat/completions"
YANDEX_PATH = "/yandex/foundationModels/v1/completion"
OPENAI_EMBED_PATH = "/openai/v1/embeddings"
GIGA_EMBED_PATH = "/gigachat/api/v1/embeddings"
YANDEX_EMBED_PATH = "/yandex/foundationModels/v1/textEmbedding"


@dataclass
class Reply:
    """One scripted answer: a JSON object (or raw bytes), or streamed ``lines``."""

    status: int = 200
    json: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    lines: list[str] | None = None
    line_delay: float = 0.0
    content_type: str = "application/json"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


# --- recorded-style payloads ---------------------------------------------------------------


def openai_completion(text: str = "Hello! How can I help?", model: str = "gpt-4o-mini") -> Any:
    return {
        "id": "chatcmpl-AZ1x2y3z",
        "object": "chat.completion",
        "created": 1733000000,
        "model": f"{model}-2024-07-18" if model == "gpt-4o-mini" else model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 21,
            "completion_tokens": 9,
            "total_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        },
        "system_fingerprint": "fp_0ba0d124f1",
    }


def openai_stream(parts: list[str], model: str = "gpt-4o-mini") -> list[str]:
    base = {"id": "chatcmpl-AZ1s", "object": "chat.completion.chunk", "created": 1733000000}
    base |= {"model": model, "system_fingerprint": "fp_0ba0d124f1"}
    events = [
        base
        | {
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "", "refusal": None},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
            "usage": None,
        }
    ]
    for part in parts:
        events.append(
            base
            | {
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": part},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
                "usage": None,
            }
        )
    events.append(
        base
        | {
            "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
            "usage": None,
        }
    )
    events.append(
        base
        | {
            "choices": [],
            "usage": {"prompt_tokens": 14, "completion_tokens": len(parts), "total_tokens": 14},
        }
    )
    return [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]


def giga_token(value: str, expires_in: float = 1800.0) -> Any:
    return {"access_token": value, "expires_at": int((time.time() + expires_in) * 1000)}


def giga_completion(text: str = "Здравствуйте! Чем могу помочь?") -> Any:
    return {
        "choices": [
            {
                "message": {"content": text, "role": "assistant"},
                "index": 0,
                "finish_reason": "stop",
            }
        ],
        "created": 1733000000,
        "model": "GigaChat:1.0.26.20",
        "object": "chat.completion",
        "usage": {
            "prompt_tokens": 18,
            "completion_tokens": 7,
            "total_tokens": 25,
            "precached_prompt_tokens": 0,
        },
    }


def giga_stream(parts: list[str]) -> list[str]:
    lines = []
    for index, part in enumerate(parts):
        event: dict[str, Any] = {
            "choices": [{"delta": {"content": part, "role": "assistant"}, "index": 0}],
            "created": 1733000000,
            "model": "GigaChat:1.0.26.20",
            "object": "chat.completion",
        }
        if index == len(parts) - 1:
            event["choices"][0]["finish_reason"] = "stop"
            event["usage"] = {"prompt_tokens": 18, "completion_tokens": 5, "total_tokens": 23}
        lines.append(f"data: {json.dumps(event, ensure_ascii=False)}\n\n")
    return [*lines, "data: [DONE]\n\n"]


def yandex_result(text: str, status: str = "ALTERNATIVE_STATUS_FINAL") -> Any:
    return {
        "result": {
            "alternatives": [{"message": {"role": "assistant", "text": text}, "status": status}],
            "usage": {"inputTextTokens": "19", "completionTokens": "6", "totalTokens": "25"},
            "modelVersion": "23.10.2024",
        }
    }


def yandex_stream(parts: list[str]) -> list[str]:
    lines, text = [], ""
    for index, part in enumerate(parts):
        text += part
        final = index == len(parts) - 1
        status = "ALTERNATIVE_STATUS_FINAL" if final else "ALTERNATIVE_STATUS_PARTIAL"
        lines.append(json.dumps(yandex_result(text, status), ensure_ascii=False) + "\n")
    return lines


def fake_vector(text: str, dimensions: int = 4) -> list[float]:
    """The fake servers' embedding of ``text``: deterministic, different per text."""
    digest = hashlib.sha256(text.encode()).digest()
    return [round(byte / 255.0 - 0.5, 6) for byte in digest[:dimensions]]


def fake_tokens(text: str) -> int:
    return len(text.split())


def openai_embeddings(texts: list[str], model: str = "text-embedding-3-small") -> Any:
    """An ``/embeddings`` answer; the items come last-first (their ``index`` says where each
    belongs, as the API promises)."""
    data = [
        {"object": "embedding", "index": index, "embedding": fake_vector(text)}
        for index, text in enumerate(texts)
    ]
    tokens = sum(fake_tokens(text) for text in texts)
    return {
        "object": "list",
        "data": data[::-1],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def giga_embeddings(texts: list[str], model: str = "Embeddings") -> Any:
    """GigaChat's ``/embeddings`` answer: token counts per item."""
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "embedding": fake_vector(text),
                "index": index,
                "usage": {"prompt_tokens": fake_tokens(text)},
            }
            for index, text in enumerate(texts)
        ],
        "model": model,
    }


def yandex_embedding(text: str) -> Any:
    """YandexGPT's ``textEmbedding`` answer (``numTokens`` is a string, as int64s are)."""
    return {
        "embedding": fake_vector(text),
        "numTokens": str(fake_tokens(text)),
        "modelVersion": "13.12.2023",
    }


# --- the server ----------------------------------------------------------------------------


class FakeLLMServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._tokens_issued = 0
        self.port = 0
        self.app = Starlette(
            routes=[
                Route(OPENAI_PATH, self._openai, methods=["POST"]),
                Route(GIGA_AUTH_PATH, self._giga_auth, methods=["POST"]),
                Route(GIGA_CHAT_PATH, self._giga_chat, methods=["POST"]),
                Route(YANDEX_PATH, self._yandex, methods=["POST"]),
                Route(OPENAI_EMBED_PATH, self._openai_embed, methods=["POST"]),
                Route(GIGA_EMBED_PATH, self._giga_embed, methods=["POST"]),
                Route(YANDEX_EMBED_PATH, self._yandex_embed, methods=["POST"]),
            ]
        )

    # test API

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._scripts.clear()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts.setdefault(path, []).extend(replies)

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    # handlers

    async def _record(self, request: Request) -> tuple[Received, Reply | None]:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        received = Received(request.url.path, headers, body)
        with self._lock:
            self.received.append(received)
            queue = self._scripts.get(request.url.path)
            return received, (queue.pop(0) if queue else None)

    async def _answer(self, reply: Reply) -> Response:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.lines is not None:
            lines, pause = reply.lines, reply.line_delay

            async def body() -> AsyncIterator[bytes]:
                for line in lines:
                    if pause:
                        await asyncio.sleep(pause)
                    yield line.encode()

            return StreamingResponse(
                body(),
                status_code=reply.status,
                headers=reply.headers,
                media_type=reply.content_type,
            )
        content = reply.raw if reply.raw is not None else json.dumps(reply.json).encode()
        return Response(
            content, status_code=reply.status, headers=reply.headers, media_type=reply.content_type
        )

    async def _openai(self, request: Request) -> Response:
        received, reply = await self._record(request)
        if reply is None:
            body = received.json()
            if body.get("stream"):
                reply = Reply(
                    lines=openai_stream(["Hel", "lo", "!"]), content_type="text/event-stream"
                )
            else:
                reply = Reply(json=openai_completion(model=body.get("model", "gpt-4o-mini")))
        return await self._answer(reply)

    async def _giga_auth(self, request: Request) -> Response:
        _, reply = await self._record(request)
        if reply is None:
            with self._lock:
                self._tokens_issued += 1
                value = f"giga-token-{self._tokens_issued}"
            reply = Reply(json=giga_token(value))
        return await self._answer(reply)

    async def _giga_chat(self, request: Request) -> Response:
        received, reply = await self._record(request)
        if reply is None:
            body = received.json()
            if body.get("stream"):
                reply = Reply(
                    lines=giga_stream(["Здравст", "вуйте", "!"]), content_type="text/event-stream"
                )
            else:
                reply = Reply(json=giga_completion())
        return await self._answer(reply)

    async def _yandex(self, request: Request) -> Response:
        received, reply = await self._record(request)
        if reply is None:
            body = received.json()
            if body["completionOptions"]["stream"]:
                reply = Reply(lines=yandex_stream(["Добрый ", "день", "!"]))
            else:
                reply = Reply(json=yandex_result("Добрый день!"))
        return await self._answer(reply)

    async def _openai_embed(self, request: Request) -> Response:
        received, reply = await self._record(request)
        if reply is None:
            body = received.json()
            reply = Reply(json=openai_embeddings(body["input"], body["model"]))
        return await self._answer(reply)

    async def _giga_embed(self, request: Request) -> Response:
        received, reply = await self._record(request)
        if reply is None:
            reply = Reply(json=giga_embeddings(received.json()["input"]))
        return await self._answer(reply)

    async def _yandex_embed(self, request: Request) -> Response:
        received, reply = await self._record(request)
        if reply is None:
            reply = Reply(json=yandex_embedding(received.json()["text"]))
        return await self._answer(reply)


@contextlib.contextmanager
def serve(server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """Run ``server`` with uvicorn in a background thread until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server.port = sock.getsockname()[1]
    config = uvicorn.Config(
        server.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake LLM server did not start")
        time.sleep(0.01)
    try:
        yield server
    finally:
        runner.should_exit = True
        thread.join(timeout=5)
        sock.close()


class _OfKind(Protocol):
    @property
    def kind(self) -> ProviderKind: ...


def error_body(case: _OfKind, status: int) -> Any:
    """The error body the provider ``case.kind`` answers with ``status``."""
    if case.kind is ProviderKind.YANDEXGPT:
        return {"error": {"grpcCode": 16, "httpCode": status, "message": "denied"}}
    if case.kind is ProviderKind.GIGACHAT:
        return {"status": status, "message": "Unauthorized" if status == 401 else "error"}
    return {"error": {"message": "nope", "type": "invalid_request_error", "code": str(status)}}
