"""The copilot row of ``benchmarks/ai_path.py``: operators asking "suggest a reply" on the
conversations the AI path created, against the same fake LLM of fixed latency. The
platform's share of a call is its end-to-end time (request sent -> suggestion received)
minus the provider's latency: our HTTP handling, auth, reading the conversation and the
settings, the knowledge search, the prompt, the LLM client and the AI log write."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx


@dataclass
class CopilotPhase:
    operators: int
    shares: list[float]
    seconds: float

    def row(self) -> tuple[float, float, float, float]:
        """(calls, calls/s, p50 ms, p99 ms)."""
        shares = sorted(self.shares)
        p50 = statistics.median(shares) if shares else float("nan")
        p99 = shares[min(len(shares) - 1, round(0.99 * (len(shares) - 1)))] if shares else p50
        return len(shares), len(shares) / self.seconds, p50, p99


async def drive_copilot(
    port: int, email: str, password: str, latency_ms: float, operators: int, calls: int
) -> CopilotPhase:
    """``operators`` concurrent operators, ``calls`` suggestions in all, round-robin over
    the tenant's latest conversations (the first call of each operator is a warm-up)."""
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await client.get("/api/v1/conversations", params={"limit": 50}, headers=headers)
        r.raise_for_status()
        ids = [c["id"] for c in r.json()["items"]]
        if not ids:
            raise RuntimeError("no conversations to suggest on")
        shares: list[float] = []
        queue = list(range(calls + operators))

        async def operator() -> None:
            first = True
            while queue:
                n = queue.pop()
                cid = ids[n % len(ids)]
                sent = time.perf_counter()
                r = await client.post(
                    f"/api/v1/conversations/{cid}/copilot/suggest", headers=headers, json={}
                )
                if r.status_code != 200:
                    raise RuntimeError(f"suggest answered {r.status_code}: {r.text[:200]}")
                if r.json()["provider"] == "offline":
                    raise RuntimeError("the fake LLM did not answer the suggestion")
                if not first:
                    shares.append((time.perf_counter() - sent) * 1000 - latency_ms)
                first = False

        started = time.perf_counter()
        await asyncio.gather(*(operator() for _ in range(operators)))
        return CopilotPhase(operators, shares, time.perf_counter() - started)
