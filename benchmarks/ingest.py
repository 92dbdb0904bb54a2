"""Inbound throughput: Frontline's API channel and Telegram webhook vs a bare one-INSERT
endpoint.

For each database (SQLite file, PostgreSQL) and each concurrency, N keep-alive clients POST
messages for a fixed time to (a) ``frontline serve`` (the API channel, then the Telegram
webhook with Telegram ``Update`` bodies: rows ``tg ...``) and (b) a bare endpoint of the same
framework and server that does one INSERT into the same database. Prints messages/s, accept
latency p50/p99, and Frontline's share of the bare throughput.

Two modes per concurrency: ``closed`` (each client sends as soon as it has its answer:
saturation, where latency is mostly queueing, about N / throughput) and ``paced`` (each
client sends at a fixed rate, together 50% of Frontline's closed-loop throughput, like real
customers: latency is service time under load).

``cpu ms``: the server process's CPU time per answered request (``/proc``), Frontline's
and the bare endpoint's; ``cpu ratio`` = bare / Frontline, the throughput ratio a
CPU-bound server reaches. A loaded machine disturbs it much less than the throughput.
``pg ms`` / ``bare pg``: on PostgreSQL, the CPU time of all its processes per answered
request (it shares the machine's cores with the server and the load generator).

    python benchmarks/ingest.py [--backends sqlite,postgres] [--concurrency 50,200]
                                [--duration 10] [--pg-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.loadgen import LoadResult, run_load  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/frontline_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def prepare_postgres(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    base, _, dbname = dsn.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", dbname)
        if exists:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                dbname,
            )
            await conn.execute(f'DROP DATABASE "{dbname}"')
        await conn.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await conn.close()


async def analyze_postgres(url: str) -> None:
    """Planner statistics for the tables, as a production database has them (autovacuum
    analyzes a table soon after it grows by a tenth; a 10-second run is shorter than its
    one-minute nap). Without them the planner sees the 20,000 bulk-inserted conversations
    as unknown and reads moderation's history (the contact's recent messages, in the
    inbound context query) by scanning every message of the tenant: measured 10 ms of
    PostgreSQL CPU per request instead of 0.7 ms. Run before every measurement, bare too."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


SEEDED_CONTACTS = 5000
# what the benchmark's customers write, one after another in their conversation: distinct
# messages, as people write. One text sent again and again by each customer is what
# moderation's repeated-spam rule holds (3 within 10 minutes by default), which turned a
# growing share of a long run into held spam (11% after 13 s, most of them by the N=200
# rows) and measured that path instead: benchmarks/moderation.py measures moderation
CUSTOMER_TEXTS = (
    "Здравствуйте! Сколько стоит тур на Байкал в июле на двоих?",
    "А что входит в стоимость?",
    "Можно ли оплатить картой при бронировании?",
    "Есть ли скидка для детей до 12 лет?",
    "Какие даты свободны на август?",
    "Нужна ли виза для этого тура?",
    "Сколько человек в группе обычно?",
    "Где место сбора в первый день?",
    "Какую одежду взять с собой в поход?",
    "Можно ли отменить бронь, если заболею?",
    "Hello, is the Altai tour still available in September?",
    "Do you have an English-speaking guide?",
    "What is the cancellation policy for group bookings?",
    "Is breakfast included in the hotel price?",
    "Спасибо, а трансфер из аэропорта есть?",
    "Подскажите, пожалуйста, сколько дней длится маршрут",
    "Мы с собакой, можно с ней поехать?",
    "А если погода испортится, тур переносится?",
    "Какой уровень подготовки нужен для сплава?",
    "Пришлите, пожалуйста, программу по дням",
)


_SENT: dict[int, int] = {}  # messages per customer so far, across the runs of a process


def conversation_texts() -> Any:
    """``texts(contact)``: that customer's next message, in turn through
    :data:`CUSTOMER_TEXTS` from a place of their own (continued across runs)."""

    def texts(contact: int) -> str:
        n = _SENT.get(contact, 0)
        _SENT[contact] = n + 1
        return CUSTOMER_TEXTS[(contact + n) % len(CUSTOMER_TEXTS)]

    return texts


async def seed(url: str, contacts: int = SEEDED_CONTACTS) -> tuple[str, str]:
    """A tenant with an API channel and ``contacts`` customers who each already have an
    open conversation (plus three other tenants); returns (channel_id, secret)."""
    from frontline.app import build_services
    from frontline.channels import service as channels
    from frontline.channels.base import ChannelType
    from frontline.kit.repository import TenantScope
    from frontline.settings import Settings
    from frontline.tenants import service as tenants

    services = build_services(Settings(database_url=url, secret_key=SECRET, env="test"))  # type: ignore[arg-type]
    try:
        async with services.db.transaction() as s:
            for i in range(3):  # other tenants present
                other = await tenants.create_tenant(
                    s, name=f"other {i}", slug=f"other-{i}-{uuid.uuid4().hex[:4]}"
                )
                await channels.create_channel(
                    s,
                    TenantScope(other.id),
                    services.secret_box,
                    channel_type=ChannelType.API,
                    name="api",
                    config={},
                )
            tenant = await tenants.create_tenant(
                s, name="bench", slug=f"bench-{uuid.uuid4().hex[:6]}"
            )
            channel, secret = await channels.create_channel(
                s,
                TenantScope(tenant.id),
                services.secret_box,
                channel_type=ChannelType.API,
                name="api",
                config={},
            )
            await _bulk_conversations(s, tenant.id, channel.id, contacts)
            return str(channel.id), secret
    finally:
        await services.db.dispose()


async def _bulk_conversations(
    session: Any,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    n: int,
    chat_base: int = -1,
    name: str | None = None,
) -> None:
    """``n`` customers with an identity on the channel and a pending conversation each.
    ``name``: the name their updates carry (a Telegram contact is created from its first
    update with the sender's name; without it every seeded customer's first update in a
    run would also write the name, a cost real traffic pays once per customer)."""
    from sqlalchemy import insert

    from frontline.kit.time import utcnow
    from frontline.models import Contact, ContactIdentity, Conversation

    now = utcnow()
    ids = [uuid.uuid4() for _ in range(n)]
    contacts = [
        {
            "id": i,
            "tenant_id": tenant_id,
            "name": name,
            "ai_enabled": True,
            "created_at": now,
            "updated_at": now,
        }
        for i in ids
    ]
    identities = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "contact_id": i,
            "channel_id": channel_id,
            "external_id": f"cust-{k}" if chat_base < 0 else str(chat_base + k),
            "created_at": now,
        }
        for k, i in enumerate(ids)
    ]
    conversations = [
        {
            "tenant_id": tenant_id,
            "channel_id": channel_id,
            "contact_id": i,
            "status": "pending",
            "priority": "normal",
            "subject": "",
            "last_activity_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for i in ids
    ]
    await session.execute(insert(Contact), contacts)
    await session.execute(insert(ContactIdentity), identities)
    await session.execute(insert(Conversation), conversations)


async def seed_telegram(url: str, contacts: int = SEEDED_CONTACTS) -> tuple[str, str]:
    """A tenant with a Telegram channel (poll mode: no setWebhook call) whose ``contacts``
    customers each have an open conversation; returns (channel_id, secret token)."""
    from frontline.app import build_services
    from frontline.channels import service as channels
    from frontline.channels.base import ChannelType
    from frontline.kit.repository import TenantScope
    from frontline.settings import Settings
    from frontline.tenants import service as tenants

    services = build_services(Settings(database_url=url, secret_key=SECRET, env="test"))  # type: ignore[arg-type]
    try:
        async with services.db.transaction() as s:
            tenant = await tenants.create_tenant(
                s, name="bench tg", slug=f"bench-tg-{uuid.uuid4().hex[:6]}"
            )
            channel, secret = await channels.create_channel(
                s,
                TenantScope(tenant.id),
                services.secret_box,
                channel_type=ChannelType.TELEGRAM,
                name="telegram",
                config={"bot_token": "123456789:" + "A" * 35, "mode": "poll"},
            )
            await _bulk_conversations(
                s, tenant.id, channel.id, contacts, TELEGRAM_CHAT_BASE, name=TELEGRAM_NAME
            )
            return str(channel.id), secret
    finally:
        await services.db.dispose()


TELEGRAM_CHAT_BASE = 500_000_000
TELEGRAM_NAME = "Ирина"  # the sender of every benchmark update


def telegram_body_factory(contacts: int) -> object:
    """Telegram ``Update`` objects (private-chat text messages) from the seeded chats."""
    rng = random.Random(11)
    base_update = random.Random().randrange(1, 2**30)

    texts = conversation_texts()

    def make(cid: int, i: int) -> dict[str, object]:
        contact = rng.randrange(contacts)
        chat = TELEGRAM_CHAT_BASE + contact
        user = {"id": chat, "is_bot": False, "first_name": TELEGRAM_NAME, "language_code": "ru"}
        return {
            "update_id": base_update + cid * 1_000_000 + i,
            "message": {
                "message_id": base_update + cid * 1_000_000 + i,
                "from": user,
                "chat": {"id": chat, "first_name": TELEGRAM_NAME, "type": "private"},
                "date": int(time.time()),
                "text": texts(contact),
            },
        }

    return make


def start(
    cmd: list[str], env: dict[str, str], port: int, probe: str | None = None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ["BENCH_SERVER_LOG"], "ab")  # noqa: SIM115
        if os.environ.get("BENCH_SERVER_LOG")
        else subprocess.PIPE,
    )
    deadline = time.time() + 90  # a loaded machine starts a server slowly
    while time.time() < deadline:
        try:
            if (
                httpx.get(
                    f"http://127.0.0.1:{port}"
                    + (probe or ("/health" if "frontline" in cmd else "/docs")),
                    timeout=1,
                ).status_code
                == 200
            ):
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"server died: {proc.stderr.read().decode() if proc.stderr else ''}")
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def body_factory(contacts: int) -> object:
    """Messages from the seeded customers, each to their ongoing conversation."""
    run = uuid.uuid4().hex[:8]
    rng = random.Random(7)

    texts = conversation_texts()

    def make(cid: int, i: int) -> dict[str, object]:
        contact = rng.randrange(contacts)
        return {
            "external_id": f"{run}-{cid}-{i}",
            "contact": {"external_id": f"cust-{contact}"},
            "text": texts(contact),
        }

    return make


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU time so far of every PostgreSQL process of this machine (the
    server's backends work for the benchmark's requests: what the database costs)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if name.startswith("postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# server CPU ms per answered request of each measurement (LoadResult id -> ms): a figure
# that a loaded machine disturbs much less than throughput (the server's own work only)
CPU_MS: dict[int, float] = {}
# PostgreSQL's CPU ms per answered request (all its processes; nan on SQLite)
PG_CPU_MS: dict[int, float] = {}
MEASURING_POSTGRES = False  # set per backend by main()
BENCH_PG_URL = DEFAULT_PG


def measure(
    port: int,
    path: str,
    headers: dict[str, str],
    n: int,
    duration: float,
    rate: float | None,
    make: object | None = None,
    pid: int | None = None,
) -> LoadResult:
    if MEASURING_POSTGRES:
        # the tables grew in the runs before: fresh statistics, as autovacuum keeps them
        asyncio.run(analyze_postgres(BENCH_PG_URL))
    before = cpu_seconds(pid) if pid else 0.0
    pg_before = postgres_cpu_seconds()
    result = asyncio.run(
        run_load(
            "127.0.0.1",
            port,
            path,
            make or body_factory(SEEDED_CONTACTS),
            headers,
            n,
            duration,
            rate_per_client=rate,
        )  # type: ignore[arg-type]
    )
    if pid and result.requests:
        CPU_MS[id(result)] = (cpu_seconds(pid) - before) * 1000 / result.requests
        if MEASURING_POSTGRES:
            PG_CPU_MS[id(result)] = (postgres_cpu_seconds() - pg_before) * 1000 / result.requests
    return result


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--concurrency", default="50,200")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    rows: list[tuple[str, int, str, LoadResult, LoadResult]] = []
    tmp = tempfile.mkdtemp(prefix="frontline-bench-")
    global MEASURING_POSTGRES, BENCH_PG_URL
    BENCH_PG_URL = args.pg_url
    for backend in args.backends.split(","):
        MEASURING_POSTGRES = backend == "postgres"
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        else:
            url = args.pg_url
            asyncio.run(prepare_postgres(url))
        from frontline.migrate import upgrade

        upgrade(url)
        channel_id, secret = asyncio.run(seed(url))
        tg_channel_id, tg_secret = asyncio.run(seed_telegram(url))
        env = {
            "FRONTLINE_DATABASE_URL": url,
            "FRONTLINE_SECRET_KEY": SECRET,
            "FRONTLINE_LOG_LEVEL": "WARNING",
            "FRONTLINE_ENV": "test",
            # a load test measures throughput, not the abuse limits
            "FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE": "100000000",
            "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "100000000",
            "BENCH_DATABASE_URL": url,
        }
        fport, bport = free_port(), free_port()
        front_cmd = [
            sys.executable,
            "-m",
            "frontline",
            "serve",
            "--no-demo",
            "--no-migrate",
            "--port",
            str(fport),
        ]
        bare_cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.bare_app:app",
            "--port",
            str(bport),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        front_path = f"/api/v1/channels/{channel_id}/messages"
        auth = {"Authorization": f"Bearer {secret}"}
        for n in levels:
            fp = start(front_cmd, env, fport)
            try:
                f_closed = measure(fport, front_path, auth, n, args.duration, None, pid=fp.pid)
                pace = max(0.5, 0.5 * f_closed.rps / n)
                f_paced = measure(fport, front_path, auth, n, args.duration, pace, pid=fp.pid)
                # the Telegram webhook, on the same server, same load shapes
                tg_path = f"/api/v1/webhooks/telegram/{tg_channel_id}"
                tg_auth = {"X-Telegram-Bot-Api-Secret-Token": tg_secret}
                tg_make = telegram_body_factory(SEEDED_CONTACTS)
                t_closed = measure(
                    fport, tg_path, tg_auth, n, args.duration, None, tg_make, pid=fp.pid
                )
                t_paced = measure(
                    fport, tg_path, tg_auth, n, args.duration, pace, tg_make, pid=fp.pid
                )
            finally:
                stop(fp)
            bp = start(bare_cmd, env, bport)
            try:
                b_closed = measure(bport, "/bare", {}, n, args.duration, None, pid=bp.pid)
                b_paced = measure(bport, "/bare", {}, n, args.duration, pace, pid=bp.pid)
            finally:
                stop(bp)
            rows.append((backend, n, "closed", f_closed, b_closed))
            rows.append((backend, n, f"paced {pace * n:.0f}/s", f_paced, b_paced))
            rows.append((backend, n, "tg closed", t_closed, b_closed))
            rows.append((backend, n, f"tg paced {pace * n:.0f}", t_paced, b_paced))
            print(f"... {backend} N={n} done", file=sys.stderr, flush=True)
    header = (
        f"{'db':<9}{'N':>5} {'mode':<14}{'frontline msg/s':>16}{'p50 ms':>8}{'p99 ms':>8}{'err':>5}"
        f"{'bare msg/s':>12}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}"
        f"{'cpu ms':>8}{'bare cpu':>9}{'cpu ratio':>10}{'pg ms':>7}{'bare pg':>8}"
    )
    print(header)
    print("-" * len(header))
    for backend, n, mode, f, b in rows:
        ratio = f.rps / b.rps if b.rps else float("nan")
        fc, bc = CPU_MS.get(id(f), float("nan")), CPU_MS.get(id(b), float("nan"))
        print(
            f"{backend:<9}{n:>5} {mode:<14}{f.rps:>16.0f}{f.p50:>8.1f}"
            f"{f.pct(99):>8.1f}{f.errors:>5}"
            f"{b.rps:>12.0f}{b.p50:>8.1f}{b.pct(99):>8.1f}{ratio:>7.2f}"
            f"{fc:>8.2f}{bc:>9.2f}{bc / fc if fc else float('nan'):>10.2f}"
            f"{PG_CPU_MS.get(id(f), float('nan')):>7.2f}{PG_CPU_MS.get(id(b), float('nan')):>8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
