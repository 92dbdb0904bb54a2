"""A minimal HTTP/1.1 server that keeps connections alive and counts them, on the test's own
event loop: tests of shared outbound clients check how many TCP connections their calls took,
and channel tests script its answers (errors, stalls) to an outbound call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    """One HTTP/1.1 request off the stream: ``(method, path, headers, body)`` (header names
    lower-cased), or ``None`` when the client closed the connection."""
    request_line = (await reader.readline()).decode("latin-1").split()
    if not request_line:
        return None
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return request_line[0], request_line[1], headers, body


@dataclass(frozen=True)
class Request:
    connection: int  # 1-based number of the TCP connection it came on
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = field(default_factory=dict)  # sent as JSON, bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering
    # stall until this is set (a client killed while waiting: the request was taken)
    hold: asyncio.Event | None = None


@dataclass
class KeepAliveServer:
    answer: Callable[[Request], Answer] = lambda _request: Answer()
    port: int = 0
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        connection = self.connections
        try:
            while True:
                read = await read_request(reader)
                if read is None:
                    break  # the client closed the connection
                method, path, headers, body = read
                request = Request(connection, method, path, headers, body)
                self.requests.append(request)
                answer = self.answer(request)
                if answer.delay:
                    await asyncio.sleep(answer.delay)
                if answer.hold is not None:
                    await answer.hold.wait()
                body = answer.body
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                head = [f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}"]
                extra = {"Content-Type": "application/json", **answer.headers}
                head += [f"{k}: {v}" for k, v in extra.items()]
                head += [f"Content-Length: {len(payload)}", "", ""]
                writer.write("\r\n".join(head).encode("latin-1") + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._tasks.discard(task)
            self._writers.discard(writer)

    async def close(self) -> None:
        """Close the connections still open: their handlers, waiting for a next request, see
        the end of the stream and return (cancelling them instead makes Python 3.11's
        ``start_server`` log the cancellation as an unhandled error)."""
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def keepalive_server(
    answer: Callable[[Request], Answer] | None = None, port: int = 0
) -> AsyncIterator[KeepAliveServer]:
    server = KeepAliveServer() if answer is None else KeepAliveServer(answer)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        await server.close()
        await listener.wait_closed()
