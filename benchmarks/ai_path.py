"""The AI path: inbound message -> AI reply delivered, with a fake LLM of fixed latency.

``frontline serve`` (in-process worker) gets messages from C concurrent conversations over
the API channel; each conversation sends its next message when the previous reply reached
its callback URL, after the customer's think time. The tenant's chain is one
OpenAI-compatible provider: a fake server that answers after a fixed latency (200 ms). The
platform's own share is the end-to-end time (message POSTed -> reply received at the
callback) minus the provider's fixed latency, printed as p50/p99 - everything else (our
HTTP handling, queueing, the database, the LLM client, the delivery, and the fake's own
overhead beyond its sleep) counts as the platform's.

One row per ``--think-ms`` value, against the same server, each with fresh conversations:

- ``0`` - closed loop: each customer answers at once. Its throughput (turns/s) is what the
  server sustains at saturation; latency there is mostly queueing (~ C / throughput).
- ``3000`` (default paced row) - each customer takes 1.5-4.5 s (uniform, mean 3 s) to read
  the reply and write the next message, starting at random offsets. That is the fast end
  of real chats (a short answer, a tap on a suggested reply; people typing a sentence take
  10 s and more), so it overstates the load 100 real conversations put on a server.

Also printed: turns/s completed and the server process's CPU time per turn (user + system,
from /proc; the fake LLM and this load generator run in their own processes).

Runs of one build spread by several milliseconds on a small shared VM: the machine's own
speed drifts by a third within minutes (the paced p50 of one build has ranged 16-25 ms on
PostgreSQL in one day). ``ref ms``, the CPU time of a fixed loop timed just before each
run, shows it: compare builds by the medians of ``--repeat`` runs, interleaved, at alike
references.

Last, the offline AI turn (``benchmarks/offline_turn.py``: search plus the built-in engine at
``--offline-chunks`` knowledge chunks, default 5,000; 0 skips it) is printed with its p95
beside the previous build's figure (``PREVIOUS_OFFLINE_P95_MS``, measured the same way).

The copilot row: after the customer-turn rows, ``--copilot-operators`` operators make
``--copilot-calls`` "suggest a reply" calls on those conversations (``copilot_path.py``).

    python benchmarks/ai_path.py [--conversations 100] [--duration 20] [--latency-ms 200]
                                 [--think-ms 0,3000] [--repeat 1] [--database sqlite|postgres]
                                 [--offline-chunks 5000] [--offline-turns 400]
                                 [--copilot-calls 200] [--copilot-operators 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.copilot_path import CopilotPhase, drive_copilot  # noqa: E402
from benchmarks.ingest import DEFAULT_PG, SECRET, free_port, prepare_postgres, start, stop  # noqa: E402

OPERATOR_EMAIL, OPERATOR_PASSWORD = "operator@ai-bench.example.com", "bench operator pw"


async def seed(url: str, llm_base: str, callback_url: str) -> tuple[str, str]:
    from frontline.app import build_services
    from frontline.channels import service as channels
    from frontline.channels.base import ChannelType
    from frontline.kit.repository import TenantScope
    from frontline.models import AiSettings, Role
    from frontline.settings import Settings
    from frontline.tenants import service as tenants

    services = build_services(Settings(database_url=url, secret_key=SECRET, env="test"))  # type: ignore[arg-type]
    try:
        async with services.db.transaction() as s:
            tenant = await tenants.create_tenant(
                s, name="ai bench", slug=f"ai-{uuid.uuid4().hex[:6]}"
            )
            await tenants.add_member(
                s,
                TenantScope(tenant.id),
                email=OPERATOR_EMAIL,
                password=OPERATOR_PASSWORD,
                role=Role.OPERATOR,
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
                    # the fake model's price is the business's: its answer passes the
                    # grounding check (an invented figure would escalate every turn)
                    system_prompt="Тур на Байкал стоит 45 000 ₽ на человека.",
                    # its customers write again the moment a reply arrives, faster than
                    # any person: moderation's flood and repeat rules would hold them
                    # (benchmarks/moderation.py measures moderation itself)
                    moderation={"flood": "off", "spam": "off"},
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One customer's keep-alive HTTP/1.1 connection (raw asyncio streams: a few tens of
    microseconds per request, so the load generator takes little of the shared CPU)."""

    def __init__(self, port: int, secret: str) -> None:
        self.port = port
        self.secret = secret
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, object]) -> int:
        data = json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {self.secret}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        for attempt in (1, 2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                assert self.reader is not None
                self.writer.write(head + data)
                await self.writer.drain()
                status_head = await self.reader.readuntil(b"\r\n\r\n")
                lines = status_head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await self.reader.readexactly(length)
                return int(lines[0].split(" ", 2)[1])
            except (ConnectionError, asyncio.IncompleteReadError):
                # a keep-alive connection the server closed: resend on a new one (the same
                # external_id, so a message that did arrive is not doubled)
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass
class Phase:
    think_ms: float
    shares: list[float]  # platform ms of each turn but every conversation's first
    turns: int  # every completed turn
    seconds: float
    cpu_seconds: float
    reference_ms: float  # this machine's speed just before (see ``reference_ms``)


def reference_ms() -> float:
    """CPU time of a fixed pure-Python loop (median of 5): how fast this machine runs right
    now. On a shared VM it drifts by a third within minutes, and every figure above with it;
    compare runs whose reference is alike."""
    times = []
    for _ in range(5):
        started = time.process_time()
        total = 0
        for i in range(300_000):
            total += i * i
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


async def drive(
    port: int,
    server_pid: int,
    channel_id: str,
    secret: str,
    receiver: Receiver,
    conversations: int,
    duration: float,
    latency_ms: float,
    think_ms: float,
) -> Phase:
    shares: list[float] = []
    turns = 0
    reference = reference_ms()
    run = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    cpu_started = cpu_seconds(server_pid)
    stop_at = started + duration
    url = f"/api/v1/channels/{channel_id}/messages"
    rng = random.Random(1)

    def think() -> float:
        return rng.uniform(0.5, 1.5) * think_ms / 1000 if think_ms > 0 else 0.0

    async def conversation(n: int) -> None:
        nonlocal turns
        contact = f"bench-{run}-{n}"
        client = Client(port, secret)
        # paced customers start at random moments of one think time, not in lockstep
        await asyncio.sleep(rng.uniform(0, think_ms / 1000) if think_ms > 0 else 0.0)
        i = 0
        try:
            while time.perf_counter() < stop_at:
                body = {
                    "external_id": f"{n}-{i}-{uuid.uuid4().hex[:6]}",
                    "contact": {"external_id": contact},
                    "text": "Здравствуйте! Сколько стоит тур на Байкал в июле?",
                }
                waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                receiver.waiters[contact] = waiter  # before sending: the reply may race
                sent = time.perf_counter()
                status = await client.post(url, body)
                if status not in (200, 202):
                    raise RuntimeError(f"inbound answered {status}")
                arrived = await asyncio.wait_for(waiter, timeout=60)
                turns += 1
                if i > 0:
                    shares.append((arrived - sent) * 1000 - latency_ms)
                i += 1
                await asyncio.sleep(think())
        finally:
            await client.close()

    await asyncio.gather(*(conversation(n) for n in range(conversations)))
    return Phase(
        think_ms,
        shares,
        turns,
        time.perf_counter() - started,
        cpu_seconds(server_pid) - cpu_started,
        reference,
    )


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
            # a load test measures throughput, not the abuse limits
            "FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE": "100000000",
            "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "100000000",
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
        phases: list[Phase] = []
        try:
            for think_ms in [t for t in args.think_ms for _ in range(args.repeat)]:
                phases.append(
                    await drive(
                        port,
                        front.pid,
                        channel_id,
                        secret,
                        receiver,
                        args.conversations,
                        args.duration,
                        args.latency_ms,
                        think_ms,
                    )
                )
            copilot = (
                await drive_copilot(
                    port,
                    OPERATOR_EMAIL,
                    OPERATOR_PASSWORD,
                    args.latency_ms,
                    args.copilot_operators,
                    args.copilot_calls,
                )
                if args.copilot_calls > 0
                else None
            )
        finally:
            stop(front)
    finally:
        stop(llm)
        server.close()
    print(
        f"{'db':<9}{'conversations':>14}{'think ms':>10}{'turns':>8}{'turns/s':>9}"
        f"{'provider ms':>13}{'platform p50 ms':>17}{'platform p99 ms':>17}"
        f"{'server CPU ms/turn':>20}{'ref ms':>8}"
    )
    rows: dict[float, list[tuple[float, ...]]] = {}
    for phase in phases:
        shares = sorted(phase.shares)
        p50 = statistics.median(shares) if shares else float("nan")
        p99 = shares[min(len(shares) - 1, round(0.99 * (len(shares) - 1)))] if shares else p50
        cpu = phase.cpu_seconds * 1000 / phase.turns if phase.turns else float("nan")
        row = (len(shares), phase.turns / phase.seconds, p50, p99, cpu, phase.reference_ms)
        rows.setdefault(phase.think_ms, []).append(row)
        print_row(args, f"{phase.think_ms:.0f}", row)
    if args.repeat > 1:  # each column's median over the runs of one think time
        for think_ms, runs in rows.items():
            medians = tuple(statistics.median(column) for column in zip(*runs, strict=True))
            print_row(args, f"{think_ms:.0f} med", medians)
    if copilot is not None:
        print_copilot(args, copilot)


def print_copilot(args: argparse.Namespace, phase: CopilotPhase) -> None:
    """The copilot row: "suggest a reply" calls by concurrent operators, next to the
    customer-turn rows (the same provider latency)."""
    calls, rate, p50, p99 = phase.row()
    print(
        f"\n{'db':<9}{'operators':>14}{'copilot':>10}{'calls':>8}{'calls/s':>9}"
        f"{'provider ms':>13}{'platform p50 ms':>17}{'platform p99 ms':>17}"
    )
    print(
        f"{args.database:<9}{phase.operators:>14}{'suggest':>10}{calls:>8.0f}{rate:>9.1f}"
        f"{args.latency_ms:>13.0f}{p50:>17.1f}{p99:>17.1f}"
    )


def print_row(args: argparse.Namespace, think: str, row: tuple[float, ...]) -> None:
    turns, rate, p50, p99, cpu, reference = row
    print(
        f"{args.database:<9}{args.conversations:>14}{think:>10}{turns:>8.0f}"
        f"{rate:>9.1f}{args.latency_ms:>13.0f}{p50:>17.1f}{p99:>17.1f}{cpu:>20.1f}"
        f"{reference:>8.1f}"
    )


# The offline turn's p95 at 5,000 chunks (ms) of the builds before this one (README,
# "Offline AI turn"): whole passages quoted, then sentences composed.
PREVIOUS_OFFLINE_P95_MS: tuple[tuple[str, float], ...] = (
    ("passages quoted", 114.6),
    ("sentences composed", 57.9),
    ("lexical, before the re-rank", 21.7),
)


def offline_turn_rows(chunks: int, turns: int) -> list[str]:
    """The offline AI turn measured now, and the previous figures beside it."""
    import tempfile

    from benchmarks.offline_turn import run
    from frontline.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="frontline-offline-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/offline.db"
        upgrade(url)
        reference = reference_ms()
        measured = asyncio.run(run(argparse.Namespace(chunks=chunks, turns=turns, seed=7), url))
    header = f"{'offline AI turn':<30}{'chunks':>8}{'p50 ms':>9}{'p95 ms':>9}{'answered':>10}"
    rows = [header, "-" * len(header)]
    for label, p95 in PREVIOUS_OFFLINE_P95_MS:
        rows.append(f"{'previous: ' + label:<30}{5000:>8}{'':>9}{p95:>9.1f}{'':>10}")
    rows.append(
        f"{'this build':<30}{measured['chunks']:>8}{measured['p50']:>9.1f}"
        f"{measured['p95']:>9.1f}{measured['answered']:>10.2f}   (ref ms {reference:.1f})"
    )
    return rows


def think_times(value: str) -> list[float]:
    return [float(v) for v in value.split(",") if v.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--conversations", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument(
        "--think-ms",
        type=think_times,
        default=[0.0, 3000.0],
        help="customer think time(s) in ms, comma-separated, one row each (0: closed loop)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per think time (fresh conversations each); with more than one, a last "
        "row per think time gives each column's median",
    )
    ap.add_argument(
        "--copilot-calls",
        type=int,
        default=200,
        help='"suggest a reply" calls for the copilot row (0: no copilot row)',
    )
    ap.add_argument("--copilot-operators", type=int, default=10)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument(
        "--offline-chunks",
        type=int,
        default=5000,
        help="knowledge chunks for the offline AI turn row (0: skip it)",
    )
    ap.add_argument("--offline-turns", type=int, default=400)
    args = ap.parse_args()
    if args.conversations > 0:
        asyncio.run(main_async(args))
    if args.offline_chunks > 0:
        print()
        print("\n".join(offline_turn_rows(args.offline_chunks, args.offline_turns)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
