"""The AI path: inbound message -> AI reply delivered, with a fake LLM of fixed latency.

``frontline serve`` (in-process worker) gets messages from C concurrent conversations over
the API channel; each conversation sends its next message when the previous reply reached
its callback URL. The tenant's chain is one OpenAI-compatible provider: a fake server that
answers after a fixed latency (200 ms). The platform's own share is the end-to-end time
minus the provider's time, and is printed as p50/p99.

    python benchmarks/ai_path.py [--conversations 100] [--duration 20] [--latency-ms 200]
                                 [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import DEFAULT_PG, SECRET, free_port, prepare_postgres, start, stop  # noqa: E402


async def seed(url: str, llm_base: str, callback_url: str) -> tuple[str, str]:
    from frontline.app import build_services
    from frontline.channels import service as channels
    from frontline.channels.base import ChannelType
    from frontline.kit.repository import TenantScope
    from frontline.models import AiSettings
    from frontline.settings import Settings
    from frontline.tenants import service as tenants

    services = build_services(Settings(database_url=url, secret_key=SECRET, env="test"))  # type: ignore[arg-type]
    try:
        async with services.db.transaction() as s:
            tenant = await tenants.create_tenant(
                s, name="ai bench", slug=f"ai-{uuid.uuid4().hex[:6]}"
            )
            channel, secret = await channels.create_channel(
                s,
                TenantScope(tenant.id),
                services.secret_box,
                channel_type=ChannelType.API,
                name="api",
                config={"callback_url": callback_url},
            )
            s.add(
                AiSettings(
                    tenant_id=tenant.id,
                    provider_chain=[
                        {
                            "id": "bench",
                            "kind": "openai_compatible",
                            "model": "bench-model",
                            "config": {"base_url": llm_base},
                        }
                    ],
                )
            )
            return str(channel.id), secret
    finally:
        await services.db.dispose()


class Receiver:
    """The channel's callback URL: records when each conversation's reply arrives."""

    def __init__(self) -> None:
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = json.loads(await reader.readexactly(length))
                arrived = time.perf_counter()
                waiter = self.waiters.pop(str(body["contact"]["external_id"]), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(arrived)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server


async def drive(
    base: str,
    channel_id: str,
    secret: str,
    receiver: Receiver,
    conversations: int,
    duration: float,
    latency_ms: float,
) -> list[float]:
    shares: list[float] = []
    stop_at = time.perf_counter() + duration
    headers = {"Authorization": f"Bearer {secret}"}
    limits = httpx.Limits(max_connections=conversations, max_keepalive_connections=conversations)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:

        async def conversation(n: int) -> None:
            i = 0
            warm = True
            while time.perf_counter() < stop_at:
                body = {
                    "external_id": f"{n}-{i}-{uuid.uuid4().hex[:6]}",
                    "contact": {"external_id": f"bench-{n}"},
                    "text": "Здравствуйте! Сколько стоит тур на Байкал в июле?",
                }
                i += 1
                waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                receiver.waiters[f"bench-{n}"] = waiter  # before sending: the reply may race
                sent = time.perf_counter()
                url = f"/api/v1/channels/{channel_id}/messages"
                try:
                    r = await client.post(url, json=body)
                except httpx.TransportError:
                    # a keep-alive connection the server closed while we waited: resend
                    # (the same external_id, so a message that did arrive is not doubled)
                    r = await client.post(url, json=body)
                r.raise_for_status()
                arrived = await asyncio.wait_for(waiter, timeout=60)
                if not warm:
                    shares.append((arrived - sent) * 1000 - latency_ms)
                warm = False

        await asyncio.gather(*(conversation(n) for n in range(conversations)))
    return shares


async def main_async(args: argparse.Namespace) -> None:
    import tempfile

    from frontline.migrate import upgrade

    url = (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/ai.db"
        if args.database == "sqlite"
        else args.pg_url
    )
    if args.database == "postgres":
        await prepare_postgres(url)
    await asyncio.to_thread(upgrade, url)
    receiver = Receiver()
    server = await receiver.start()
    llm_port, port = free_port(), free_port()
    env = {"FAKE_LLM_LATENCY_MS": str(args.latency_ms), "BENCH_DATABASE_URL": url}
    llm = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.fake_llm:app",
            "--port",
            str(llm_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        llm_port,
        probe="/health",
    )
    try:
        channel_id, secret = await seed(
            url, f"http://127.0.0.1:{llm_port}/v1", f"http://127.0.0.1:{receiver.port}/hook"
        )
        front_env = {
            "FRONTLINE_DATABASE_URL": url,
            "FRONTLINE_SECRET_KEY": SECRET,
            "FRONTLINE_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "FRONTLINE_ENV": "test",
            # enough concurrent jobs for every conversation's turn to be in flight at once
            "FRONTLINE_WORKER_CONCURRENCY": str(max(8, args.conversations + 10)),
        }
        front = start(
            [
                sys.executable,
                "-m",
                "frontline",
                "serve",
                "--no-demo",
                "--no-migrate",
                "--port",
                str(port),
            ],
            front_env,
            port,
        )
        try:
            shares = await drive(
                f"http://127.0.0.1:{port}",
                channel_id,
                secret,
                receiver,
                args.conversations,
                args.duration,
                args.latency_ms,
            )
        finally:
            stop(front)
    finally:
        stop(llm)
        server.close()
    shares.sort()
    p99 = shares[min(len(shares) - 1, round(0.99 * (len(shares) - 1)))] if shares else float("nan")
    print(
        f"{'db':<9}{'conversations':>14}{'turns':>8}{'provider ms':>13}"
        f"{'platform p50 ms':>17}{'platform p99 ms':>17}"
    )
    print(
        f"{args.database:<9}{args.conversations:>14}{len(shares):>8}{args.latency_ms:>13.0f}"
        f"{statistics.median(shares) if shares else float('nan'):>17.1f}{p99:>17.1f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--conversations", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    asyncio.run(main_async(ap.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
