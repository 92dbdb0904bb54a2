"""A small closed/open-loop HTTP/1.1 load generator on raw asyncio streams.

Keep-alive connections, one request in flight per connection. Client overhead is a few tens
of microseconds per request, far below the server's, so the server is what is measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        k = min(len(data) - 1, max(0, round(p / 100 * (len(data) - 1))))
        return data[k]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    host: str,
    port: int,
    path: str,
    make_body: Callable[[int, int], dict[str, object]],
    headers: dict[str, str],
    concurrency: int,
    duration: float,
    rate_per_client: float | None = None,
    warmup: float = 1.0,
) -> LoadResult:
    """``concurrency`` connections for ``duration`` seconds (after ``warmup``).

    Closed loop when ``rate_per_client`` is None (each client sends as soon as it gets an
    answer); otherwise each client sends at that rate (open loop, like real customers)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def client(cid: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        i = 0
        # spread clients over the first interval so paced clients do not fire in lockstep
        next_send = time.perf_counter() + (
            random.random() / rate_per_client if rate_per_client else 0.0
        )
        try:
            while True:
                now = time.perf_counter()
                if now >= stop_at:
                    break
                if rate_per_client:
                    if now < next_send:
                        await asyncio.sleep(next_send - now)
                    next_send += 1.0 / rate_per_client
                body = json.dumps(make_body(cid, i)).encode()
                i += 1
                req = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n{extra}\r\n"
                ).encode() + body
                t0 = time.perf_counter()
                writer.write(req)
                try:
                    status, _ = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    errors += 1
                    break
                t1 = time.perf_counter()
                if t0 >= measure_from and t1 <= stop_at:
                    latencies.append((t1 - t0) * 1000)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status >= 300:
                        errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client(c) for c in range(concurrency)))
    ok = sum(n for s, n in statuses.items() if s < 300)
    return LoadResult(ok, errors, duration, latencies, statuses)
