"""Pure-ASGI middleware: request ids, access logs and metrics, the body-size limit, and
error bodies in the client's language."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontline.kit.error_text import to_russian
from frontline.kit.i18n import from_accept_language
from frontline.kit.logging import request_id_var
from frontline.kit.metrics import http_latency, http_requests

log = logging.getLogger("frontline.access")

REQUEST_ID_SCOPE_KEY = "frontline.request_id"


class RequestContextMiddleware:
    """Assigns a request id (or keeps a sane incoming ``X-Request-ID``), logs one JSON line
    per request and records Prometheus request metrics by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = (
            incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else uuid.uuid4().hex
        )
        # for the 500 handler, which runs outside this middleware (after the variable's reset)
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope)
            method = scope.get("method", "")
            status = status_holder["status"]
            http_requests.labels(method, template, str(status)).inc()
            http_latency.labels(method, template).observe(elapsed)
            if template not in ("/health", "/metrics"):
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope.get("path"),
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/api/v1/conversations/{conversation_id}``).

    FastAPI keeps included routers nested, so the matched route's own ``path`` lacks the
    routers' prefixes; they are what the request path has before the route's rendered part.
    """
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    rendered = str(template)
    for name, value in (scope.get("path_params") or {}).items():
        rendered = rendered.replace("{" + name + "}", str(value))
    path = str(scope.get("path", ""))
    if path.endswith(rendered):
        return path[: len(path) - len(rendered)] + str(template)
    return str(template)


class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answers 413 for request bodies over ``max_bytes``, declared or streamed.
    ``overrides`` maps path prefixes to their own limit (file uploads)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = sorted((overrides or {}).items(), key=lambda kv: -len(kv[0]))

    def _limit(self, path: str) -> int:
        for prefix, limit in self.overrides:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def _reject(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "error": {
                    "code": "payload_too_large",
                    "message": f"request body over {limit} bytes",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        await self._reject(send, limit)
                        return
                except ValueError:
                    pass
        received = 0
        started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # answer now: the app may catch the error while reading its body (FastAPI
                    # turns it into a 400) and must not get to answer in place of the 413
                    if not started and not rejected:
                        rejected = True
                        await self._reject(send, limit)
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started and not rejected:
                await self._reject(send, limit)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class ErrorLanguageMiddleware:
    """Error bodies in the language the client prefers.

    The API answers in English unless ``Accept-Language`` ranks Russian first; then each
    JSON error response (status 400 and above, ``{"error": {"message"}}``) has its
    ``message`` and each ``fields[].message`` put into Russian (:mod:`frontline.kit.error_text`)
    and says so with ``Content-Language: ru``. Success responses pass through untouched and
    unbuffered; an error body is small, so it is held until complete and rewritten once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            from_accept_language(header(scope, b"accept-language")) != "ru"
        ):
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                kinds = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
                json_type = bool(kinds) and kinds[0].startswith(b"application/json")
                if message["status"] >= 400 and json_type:
                    held["start"] = message
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                start = held.pop("start")
                body = _russian_error(b"".join(chunks), int(start["status"]))
                headers = [
                    (k, v)
                    for k, v in start.get("headers", [])
                    if k.lower() not in (b"content-length", b"content-language")
                ]
                headers += [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-language", b"ru"),
                ]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _russian_error(body: bytes, status: int) -> bytes:
    """``body`` with its error message(s) in Russian; any other JSON unchanged."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return body
    code = str(error.get("code", ""))
    error["message"] = to_russian(error["message"], code, status)
    for item in error.get("fields") or []:
        if isinstance(item, dict) and isinstance(item.get("message"), str):
            item["message"] = to_russian(item["message"], "invalid", 422)
    return json.dumps(document, ensure_ascii=False).encode()
