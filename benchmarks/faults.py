"""Faults survived, measured: customer messages through real processes while a part fails.

Each scenario sends a stream of customer messages (each from a new customer, at a steady
rate) through the REST API channel into real ``frontline serve`` (API only) and
``frontline worker`` processes on a PRIVATE PostgreSQL cluster and a PRIVATE redis-server,
both started here in a temporary folder on free ports (``initdb``/``pg_ctl`` from the
installed PostgreSQL, as the ``postgres`` user when run as root), so stopping them touches
nothing shared. The tenant's provider chain is one OpenAI-compatible server
(``benchmarks/fake_llm.py``) with the built-in offline engine behind it.

- ``llm`` - the provider fails 30% of calls: no answer (a timeout), HTTP 500/503, a body that
  is not JSON, an answer that is not the JSON asked for;
- ``redis`` - redis-server is stopped mid-load and started again after ``--outage`` seconds;
- ``postgres`` - the PostgreSQL cluster is stopped mid-load (fast shutdown: every connection
  dropped) and started again after ``--outage`` seconds;
- ``worker`` - one of the two workers is killed with SIGKILL while it runs jobs, and a new
  one is started.

The sender behaves like a real integration: on a transport error, a 5xx or a 429 it sends
the same message again (same ``external_id``, which the API dedupes) after ``Retry-After``.
Then the checks, on the database and on what reached the channel's callback URL:

- lost: a message the API acknowledged (or never accepted) that is not stored;
- duplicated: a customer message stored twice, a conversation with more than one reply, or
  a reply delivered under two idempotency keys;
- every conversation has exactly one AI reply or is handed off to a person (answered /
  handed off), its one outbound message delivered once;
- no job stuck: every ``ai.reply`` and ``message.deliver`` job ``done`` (none queued,
  running or dead);
- time to answer: first send -> its reply at the callback (p50/p99); recovery: the part back
  (restarted, or the new worker started) -> every message sent before then answered
  (for ``llm``: the fault never ends, so no figure).

Also counted: answers the API gave while the part was away (``503`` with ``Retry-After`` is
the designed answer while the database is unreachable; a ``500`` is a bug).

    .venv/bin/python benchmarks/faults.py [--messages 200] [--rate 20] [--outage 5]
                                          [--scenario llm,redis,postgres,worker]

``tests/test_faults.py`` runs the same scenarios with fewer messages and asserts the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.ai_path import seed  # noqa: E402
from benchmarks.ingest import SECRET  # noqa: E402
from benchmarks.private_services import PrivatePostgres, PrivateRedis  # noqa: E402
from tests.kit.keepalive import Answer, Request, keepalive_server  # noqa: E402
from tests.kit.liveserver import (  # noqa: E402
    free_port,
    log_tails,
    spawn_frontline,
    stop_all,
    wait_healthy,
)

SCENARIOS = ("llm", "redis", "postgres", "worker")
# jobs a SIGKILLed worker held are claimed again after the lease: short, so recovery shows
LEASE_SECONDS = 10
# a provider that does not answer is given up after this long (then the chain moves on)
PROVIDER_TIMEOUT_SECONDS = 5


# --- the frontline processes -----------------------------------------------------------------


class Cluster:
    """One ``frontline serve`` without a worker and ``workers`` ``frontline worker``s."""

    def __init__(self, folder: Path, database_url: str, redis_url: str) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FRONTLINE_ENV": "test",
            "FRONTLINE_DATABASE_URL": database_url,
            "FRONTLINE_REDIS_URL": redis_url,
            "FRONTLINE_SECRET_KEY": SECRET,
            "FRONTLINE_LOG_LEVEL": "WARNING",
            "FRONTLINE_LOG_JSON": "false",
            # a fault test measures surviving, not the abuse limits
            "FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE": "100000000",
            "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "100000000",
            "FRONTLINE_WORKER_POLL_SECONDS": "0.2",
            "FRONTLINE_WORKER_CONCURRENCY": "16",
            "FRONTLINE_DATABASE_POOL_SIZE": "10",
            "FRONTLINE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "FRONTLINE_JOB_BACKOFF_BASE_SECONDS": "0.5",
            "FRONTLINE_JOB_BACKOFF_MAX_SECONDS": "5",
            "FRONTLINE_AI_PROVIDER_TIMEOUT_SECONDS": str(PROVIDER_TIMEOUT_SECONDS),
        }
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def start(self, workers: int = 2) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--no-demo", "--no-migrate", "--no-worker"]
        self.api = spawn_frontline(args, self.env, self.folder / "api.log")
        for _ in range(workers):
            self.add_worker()
        wait_healthy(self.port, [self.api, *self.workers], self.folder)

    def add_worker(self) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        proc = spawn_frontline(["worker"], self.env, self.folder / f"worker-{n}.log")
        self.workers.append(proc)
        return proc

    def check_alive(self) -> None:
        for proc in [self.api, *self.workers]:
            if proc is not None and proc.returncode is None and proc.poll() is not None:
                raise AssertionError(f"a frontline process exited:\n{log_tails(self.folder)}")

    def stop(self) -> None:
        stop_all([p for p in [self.api, *self.workers] if p is not None])


# --- one run -----------------------------------------------------------------------------


@dataclass
class Sent:
    first_try: float
    accepted_at: float | None = None
    conversation_id: int | None = None
    tries: int = 0


@dataclass
class Outcome:
    """What one scenario's run saw; :meth:`problems` lists the broken invariants."""

    scenario: str
    messages: int
    stored: int = 0
    answered: int = 0
    handed_off: int = 0
    lost: int = 0
    duplicated: int = 0
    unanswered: int = 0
    stuck_jobs: dict[str, int] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    answer_ms: list[float] = field(default_factory=list)
    recovery_s: float | None = None
    redelivered: int = 0
    killed_holding: int = 0  # jobs the SIGKILLed worker held running when it died
    llm_calls: dict[str, int] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        if not self.answer_ms:
            return float("nan")
        data = sorted(self.answer_ms)
        return data[min(len(data) - 1, round(p / 100 * (len(data) - 1)))]

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{self.lost} messages lost")
        if self.duplicated:
            found.append(f"{self.duplicated} duplicated")
        if self.unanswered:
            found.append(f"{self.unanswered} conversations without one reply or handoff")
        if self.answered + self.handed_off != self.messages:
            found.append(
                f"{self.answered}+{self.handed_off} answered/handed off of {self.messages}"
            )
        if self.stuck_jobs:
            found.append(f"jobs not done: {self.stuck_jobs}")
        if self.statuses.get(500):
            found.append(f"{self.statuses[500]} answers were 500 (a bug, not an outage answer)")
        return found


class Callback:
    """The channel's callback URL: which reply arrived when, under which idempotency key."""

    def __init__(self) -> None:
        self.first_at: dict[str, float] = {}  # contact external id -> first arrival
        self.keys: Counter[str] = Counter()
        self.keys_by_contact: dict[str, set[str]] = {}

    def answer(self, request: Request) -> Answer:
        body = request.json()
        contact = str(body["contact"]["external_id"])
        key = request.headers.get("idempotency-key", "")
        self.first_at.setdefault(contact, time.monotonic())
        self.keys[key] += 1
        self.keys_by_contact.setdefault(contact, set()).add(key)
        return Answer(200, {"ok": True})


async def _send_all(
    base: str,
    channel_id: str,
    secret: str,
    n: int,
    rate: float,
    run: str,
    outcome: Outcome,
    deadline: float,
) -> dict[str, Sent]:
    sent: dict[str, Sent] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:

        async def one(i: int) -> None:
            contact = f"{run}-customer-{i}"
            body = {
                "external_id": f"{run}-m-{i}",
                "contact": {"external_id": contact},
                "text": "Сколько стоит тур на Байкал?" if i % 3 else "How much is the Baikal tour?",
            }
            record = sent[contact] = Sent(first_try=time.monotonic())
            while time.monotonic() < deadline:
                record.tries += 1
                wait = 0.5
                try:
                    r = await client.post(
                        f"/api/v1/channels/{channel_id}/messages",
                        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"},
                        json=body,
                    )
                except httpx.TransportError:
                    outcome.transport_errors += 1
                else:
                    outcome.statuses[r.status_code] += 1
                    if r.status_code in (200, 202):
                        record.accepted_at = time.monotonic()
                        record.conversation_id = int(r.json()["conversation_id"])
                        return
                    with contextlib.suppress(ValueError):
                        wait = min(float(r.headers.get("retry-after", wait)), 5.0)
                    if r.status_code < 500 and r.status_code != 429:
                        return  # refused for good: counted as lost below
                await asyncio.sleep(wait)

        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
    return sent


async def _db_checks(url: str, channel_id: str, run: str, outcome: Outcome) -> None:
    """Lost, duplicated, answered / handed off, and jobs not done, read from the database."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            """
            SELECT c.id, c.status, ct_id.external_id AS contact,
                   count(m.id) FILTER (WHERE m.sender_type = 'contact') AS inbound,
                   count(m.id) FILTER (WHERE m.sender_type <> 'contact' AND NOT m.is_internal)
                       AS outbound
            FROM conversations c
            JOIN contact_identities ct_id
              ON ct_id.contact_id = c.contact_id AND ct_id.channel_id = c.channel_id
            LEFT JOIN messages m ON m.conversation_id = c.id
            WHERE c.channel_id = $1::uuid AND ct_id.external_id LIKE $2
            GROUP BY c.id, c.status, ct_id.external_id
            """,
            channel_id,
            f"{run}-%",
        )
        stored_ids = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE channel_id = $1::uuid AND external_id LIKE $2",
            channel_id,
            f"{run}-m-%",
        )
        jobs = await conn.fetch(
            "SELECT kind, status, count(*) AS n FROM jobs "
            "WHERE kind IN ('ai.reply', 'message.deliver') GROUP BY kind, status"
        )
    finally:
        await conn.close()
    conversations_per_contact = Counter(str(r["contact"]) for r in rows)
    outcome.stored = sum(int(r["inbound"]) for r in rows)
    outcome.lost = max(0, outcome.messages - len(conversations_per_contact))
    outcome.duplicated += max(0, outcome.stored - outcome.messages) + max(
        0, int(stored_ids) - outcome.messages
    )
    outcome.duplicated += sum(n - 1 for n in conversations_per_contact.values() if n > 1)
    for r in rows:
        if int(r["outbound"]) > 1:
            outcome.duplicated += int(r["outbound"]) - 1
        if int(r["outbound"]) == 0:
            outcome.unanswered += 1
        elif r["status"] in ("pending", "open"):
            outcome.handed_off += 1
        else:
            outcome.answered += 1
    outcome.stuck_jobs = {
        f"{r['kind']}:{r['status']}": int(r["n"]) for r in jobs if r["status"] != "done"
    }


async def _settled(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE kind IN ('ai.reply', 'message.deliver') "
            "AND status <> 'done'"
        )
    finally:
        await conn.close()
    return int(left) == 0


Fault = Callable[[Cluster, PrivatePostgres, PrivateRedis], Awaitable[float | None]]


async def _no_fault(_c: Cluster, _p: PrivatePostgres, _r: PrivateRedis) -> float | None:
    return None


def _outage(stop: Callable[[], None], start: Callable[[], None], seconds: float) -> Fault:
    async def fault(_c: Cluster, _p: PrivatePostgres, _r: PrivateRedis) -> float:
        await asyncio.to_thread(stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(start)
        return time.monotonic()

    return fault


def _kill_worker(outcome: Outcome) -> Fault:
    async def fault(cluster: Cluster, pg: PrivatePostgres, _r: PrivateRedis) -> float:
        """SIGKILL a worker while it holds running jobs (waits up to 20 s for one to hold a
        job; whichever worker wins the claims), then start a new worker."""
        import asyncpg

        by_pid = {str(w.pid): w for w in cluster.workers}
        victim = cluster.workers[0]
        conn = await asyncpg.connect(pg.url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            until = time.monotonic() + 20
            while time.monotonic() < until:
                holders = await conn.fetch(
                    "SELECT split_part(locked_by, ':', 2) AS pid, count(*) AS held FROM jobs "
                    "WHERE status = 'running' GROUP BY 1"
                )
                held = {r["pid"]: int(r["held"]) for r in holders if r["pid"] in by_pid}
                if held:
                    pid, count = max(held.items(), key=lambda item: item[1])
                    victim = by_pid[pid]
                    victim.send_signal(signal.SIGKILL)
                    outcome.killed_holding = count
                    break
                await asyncio.sleep(0.01)
            else:
                victim.send_signal(signal.SIGKILL)
        finally:
            await conn.close()
        victim.wait()
        await asyncio.to_thread(cluster.add_worker)
        return time.monotonic()

    return fault


async def run_scenario(
    scenario: str,
    folder: Path,
    *,
    messages: int,
    rate: float,
    outage: float,
    settle_seconds: float = 240,
) -> Outcome:
    """Start private PostgreSQL + Redis, the fake LLM and the frontline processes, send
    ``messages`` at ``rate`` a second, break the part ``scenario`` names after a third of
    them went out, and measure."""
    from frontline.migrate import upgrade

    folder.mkdir(parents=True, exist_ok=True)
    pg = PrivatePostgres(folder)
    redis = PrivateRedis(folder)
    llm: subprocess.Popen[bytes] | None = None
    cluster: Cluster | None = None
    outcome = Outcome(scenario, messages)
    try:
        pg.init()
        pg.start()
        redis.start()
        await asyncio.to_thread(upgrade, pg.url)
        llm_port = free_port()
        llm_env = {
            **os.environ,
            "FAKE_LLM_LATENCY_MS": "50",
            "FAKE_LLM_FAILURE_RATE": "0.3" if scenario == "llm" else "0",
            "FAKE_LLM_HANG_SECONDS": str(PROVIDER_TIMEOUT_SECONDS * 4),
        }
        with (folder / "fake-llm.log").open("ab") as log:
            llm = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "benchmarks.fake_llm:app", "--port",
                 str(llm_port), "--log-level", "warning", "--no-access-log"],
                env=llm_env, cwd=ROOT, stdout=log, stderr=log,
            )  # fmt: skip
        async with keepalive_server() as receiver:
            callback = Callback()
            receiver.answer = callback.answer
            channel_id, secret = await seed(
                pg.url, f"http://127.0.0.1:{llm_port}/v1", f"{receiver.base}/hook"
            )
            cluster = Cluster(folder, pg.url, redis.url)
            await asyncio.to_thread(cluster.start, 2)
            fault: Fault = {
                "llm": _no_fault,
                "redis": _outage(redis.stop, redis.start, outage),
                "postgres": _outage(pg.stop, pg.start, outage),
                "worker": _kill_worker(outcome),
            }[scenario]
            run = f"{scenario}{int(time.time())}"
            started = time.monotonic()
            deadline = started + messages / rate + settle_seconds
            sending = asyncio.create_task(
                _send_all(cluster.base, channel_id, secret, messages, rate, run, outcome, deadline)
            )
            await asyncio.sleep(messages / rate / 3)
            fault_ended = await fault(cluster, pg, redis)
            sent = await sending
            # wait until every reply arrived and every job settled (or the deadline)
            while time.monotonic() < deadline:
                cluster.check_alive()
                if len(callback.first_at) >= messages and await _settled(pg.url):
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.5)  # a late duplicate would show now
            with contextlib.suppress(httpx.HTTPError):
                outcome.llm_calls = httpx.get(f"http://127.0.0.1:{llm_port}/stats").json()
        await _db_checks(pg.url, channel_id, run, outcome)
        unaccepted = sum(1 for s in sent.values() if s.accepted_at is None)
        outcome.lost = max(outcome.lost, unaccepted)
        for contact, s in sent.items():
            arrived = callback.first_at.get(contact)
            if arrived is not None:
                outcome.answer_ms.append((arrived - s.first_try) * 1000)
        outcome.duplicated += sum(len(k) - 1 for k in callback.keys_by_contact.values())
        outcome.redelivered = sum(n - 1 for n in callback.keys.values())
        if fault_ended is not None:
            before = [c for c, s in sent.items() if s.first_try <= fault_ended]
            arrivals = [callback.first_at.get(c) for c in before]
            if before and all(a is not None for a in arrivals):
                last = max(a for a in arrivals if a is not None)
                outcome.recovery_s = max(0.0, last - fault_ended)
        return outcome
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
        if llm is not None:
            llm.terminate()
            llm.wait(30)
        redis.stop()
        pg.destroy()


@contextlib.asynccontextmanager
async def scratch(prefix: str) -> AsyncIterator[Path]:
    """A temporary folder the ``postgres`` user may enter (pytest's own are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        if os.environ.get("FRONTLINE_FAULTS_KEEP"):
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def table(outcomes: list[Outcome]) -> str:
    head = (
        f"{'scenario':<9} {'msgs':>5} {'answered':>8} {'handoff':>7} {'lost':>4} {'dup':>3} "
        f"{'p50 s':>6} {'p99 s':>6} {'recovery s':>10} {'5xx/503/conn':>12} {'stuck':>5}"
    )
    lines = [head, "-" * len(head)]
    for o in outcomes:
        recovery = f"{o.recovery_s:.1f}" if o.recovery_s is not None else "-"
        errors = f"{sum(v for k, v in o.statuses.items() if k >= 500 and k != 503)}/"
        errors += f"{o.statuses.get(503, 0)}/{o.transport_errors}"
        lines.append(
            f"{o.scenario:<9} {o.messages:>5} {o.answered:>8} {o.handed_off:>7} {o.lost:>4} "
            f"{o.duplicated:>3} {o.pct(50) / 1000:>6.2f} {o.pct(99) / 1000:>6.2f} "
            f"{recovery:>10} {errors:>12} {sum(o.stuck_jobs.values()):>5}"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    outcomes = []
    for scenario in args.scenario.split(","):
        async with scratch(f"frontline-faults-{scenario}-") as folder:
            try:
                outcome = await run_scenario(
                    scenario, folder, messages=args.messages, rate=args.rate, outage=args.outage
                )
            except AssertionError:
                print(log_tails(folder), file=sys.stderr)
                raise
        outcomes.append(outcome)
        extra = f" llm calls: {outcome.llm_calls}" if outcome.llm_calls else ""
        if scenario == "worker":
            extra += f" killed holding {outcome.killed_holding} running jobs"
        print(f"{scenario}: done, {outcome.redelivered} same-key redeliveries{extra}", flush=True)
    load = os.getloadavg()
    print()
    print(table(outcomes))
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    bad = {o.scenario: o.problems() for o in outcomes if o.problems()}
    for scenario, problems in bad.items():
        print(f"FAILED {scenario}: {'; '.join(problems)}")
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="messages a second")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds a part stays down")
    parser.add_argument("--scenario", default=",".join(SCENARIOS))
    args = parser.parse_args()
    unknown = set(args.scenario.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {sorted(unknown)}; choose from {SCENARIOS}")
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
