"""Realtime: idle widget sockets one process holds, and message round trips at a paced rate.

Both parts talk to real ``frontline serve`` processes over loopback the way the widget does
(``docs/realtime.md``): ``POST /api/v1/widget/session`` for a visitor token, then
``/ws/widget``, then ``hello``. The tenant's AI is off, so a round trip measures the
platform (store, publish, fan-out, send), not a model. The client side is this process
(``websockets`` client on uvloop); the servers are separate processes.

1. Idle sockets: one server (SQLite in a temporary directory, in-memory broker, in-process
   worker) and ``--connections`` visitors, each with its own session and one socket, opened
   ``--open-concurrency`` at a time; like the widget, the client answers the server's
   ``ping`` with ``pong``, sends no WebSocket pings of its own and offers permessage-deflate
   (``--compression none``: not). Printed: the server's RSS (``/proc/<pid>/status`` VmRSS)
   at start, after a few warm-up sockets (the baseline: one-time imports and caches
   are paid), with all sockets open, after ``--hold`` idle seconds and after they closed;
   KB per socket (held minus baseline, over N), the peak (VmHWM), the time to open them
   all and the server's CPU per socket opened, how many got ``hello`` (and stayed open),
   the server's CPU while they idle, and ``/health`` latency while it holds them. Target
   (issue): 5,000 sockets under 1 GiB.
2. Round trip: ``--visitors`` visitors, each having sent one first message (which creates
   their conversation), then ``message.send`` at a combined ``--rate`` (spread evenly over
   the visitors, open loop) for ``--warmup`` unmeasured and ``--seconds`` measured seconds.
   Round trip = the frame sent -> the ``message.created`` echo with its ``client_id``
   received. ``memory``: one server, the echo on the sending socket. ``redis``: two
   servers on PostgreSQL and Redis; each visitor sends on a socket to process A and a
   second tab on process B receives. ``crossed`` (not in the default ``--modes``): as
   ``redis``, but every second visitor sends on B and receives on A, as a load balancer
   would spread them. Lost = no echo within 5 s. Also printed: the servers' CPU per
   message, the rate at which the busiest one would fill a core, how long processes waited
   for a CPU (a shared machine shows there), and PostgreSQL's CPU. Target (issue): p99
   under 100 ms at 500 messages/s.

    python benchmarks/realtime.py [--quick] [--parts idle,roundtrip] [--connections 5000]
                                  [--open-concurrency 100] [--compression deflate|none]
                                  [--hold 10] [--visitors 100] [--rate 500] [--seconds 20]
                                  [--warmup 3] [--modes memory,redis[,crossed]]
                                  [--database sqlite,postgres]
                                  [--pg-url postgresql+asyncpg://...] [--redis-url redis://...]

``--database`` lists the databases of the ``memory`` rows; two-server rows always use
PostgreSQL (a shared database is what two processes need). The PostgreSQL database
(``bench_realtime``) is dropped and created again for every row. Server logs go to
``$BENCH_SERVER_LOG`` (default: a file in the temporary directory, printed at the end). A
full default run takes 3-4 minutes on 2 cores, about a minute of it opening the 5,000
sockets; ``--quick`` (500 sockets, 5 s rows) under one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import stop  # noqa: E402
from benchmarks.realtime_client import (  # noqa: E402
    LOST_AFTER,
    Tab,
    Trips,
    Widget,
    bounded,
    http_client,
    pct,
)
from benchmarks.realtime_procs import (  # noqa: E402
    Meter,
    fd_limit_of,
    pg_backends,
    prepare_database,
    proc_status,
    raise_fd_limit,
    seed,
    serve,
    serve_all,
)

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_realtime"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
WARM_SOCKETS = 20  # opened and closed before the idle baseline is read


# --- 1. idle sockets --------------------------------------------------------------------


@dataclass
class Idle:
    connections: int
    hello: int
    failures: Counter[str]
    open_s: float
    rss_start: float
    rss_base: float
    rss_open: float
    rss_held: float
    rss_closed: float
    peak: float
    open_cpu_ms: float  # server CPU per socket opened (session + upgrade + hello)
    open_wait: float  # % of the opening time the server waited for a CPU
    open_others: float  # % of one core the rest of the machine used meanwhile
    cpu_held: float  # % of one core while idle
    health_ms: list[float]
    hold_s: float
    server_fds: str


async def idle_part(args: argparse.Namespace, tmp: str) -> Idle:
    progress("idle: database and server")
    url = await prepare_database("sqlite", args.pg_url, tmp)
    key = await seed(url)
    proc, base = serve(url, None)
    progress(f"idle: opening {args.connections} sockets")
    try:
        async with http_client(args.open_concurrency) as http:
            widget = Widget(http, base, key, None if args.compression == "none" else "deflate")
            rss_start = proc_status(proc.pid, "VmRSS")

            async def open_one(_i: int) -> Tab:
                ws, _hello = await widget.socket(await widget.session())
                return Tab(ws)

            warm = await bounded(WARM_SOCKETS, WARM_SOCKETS, open_one)
            await asyncio.gather(*(w.close() for w in warm if isinstance(w, Tab)))
            await asyncio.sleep(1)
            rss_base = proc_status(proc.pid, "VmRSS")
            meter = Meter([proc.pid, os.getpid()])
            opened = await bounded(args.connections, args.open_concurrency, open_one)
            open_s, (open_cpu, client_cpu), (open_wait, _client_wait) = meter.read()
            open_others = max(0.0, meter.machine - open_cpu - client_cpu)
            sockets = [w for w in opened if isinstance(w, Tab)]
            failures = Counter(type(w).__name__ for w in opened if isinstance(w, BaseException))
            rss_open = proc_status(proc.pid, "VmRSS")
            meter = Meter([proc.pid])
            await asyncio.sleep(args.hold)
            _wall, (cpu_held,), _wait = meter.read()
            rss_held = proc_status(proc.pid, "VmRSS")
            health: list[float] = []
            for _ in range(20):
                t = time.perf_counter()
                (await http.get(f"{base}/health")).raise_for_status()
                health.append((time.perf_counter() - t) * 1000)
                await asyncio.sleep(0.05)
            alive = sum(1 for w in sockets if w.open)
            await bounded(len(sockets), 500, lambda i: sockets[i].close())
            await asyncio.sleep(2)
            return Idle(
                connections=args.connections,
                hello=alive,
                failures=failures,
                open_s=open_s,
                rss_start=rss_start,
                rss_base=rss_base,
                rss_open=rss_open,
                rss_held=rss_held,
                rss_closed=proc_status(proc.pid, "VmRSS"),
                peak=proc_status(proc.pid, "VmHWM"),
                open_cpu_ms=open_cpu * open_s * 10 / args.connections,
                open_wait=open_wait,
                open_others=open_others,
                cpu_held=cpu_held,
                health_ms=health,
                hold_s=args.hold,
                server_fds=fd_limit_of(proc.pid),
            )
    finally:
        stop(proc)


def print_idle(r: Idle) -> None:
    per_kb = (r.rss_held - r.rss_base) * 1024 / max(1, r.hello)
    print("\n1. Idle widget sockets held by one `frontline serve` (SQLite, in-memory broker)")
    header = (
        f"{'sockets':>8}{'open':>6}{'open s':>8}{'/s':>5}{'CPU ms/open':>12}{'wait%':>6}"
        f"{'others%':>8}"
        f"{'RSS start':>10}{'base':>6}{'open':>6}{'held':>6}{'closed':>7}{'peak':>6}"
        f"{'KB/socket':>10}{'idle CPU%':>10}{'/health p50':>12}{'max ms':>7}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{r.connections:>8}{r.hello:>6}{r.open_s:>8.1f}{r.connections / r.open_s:>5.0f}"
        f"{r.open_cpu_ms:>12.2f}{r.open_wait:>6.0f}{r.open_others:>8.0f}"
        f"{r.rss_start:>10.0f}{r.rss_base:>6.0f}{r.rss_open:>6.0f}{r.rss_held:>6.0f}"
        f"{r.rss_closed:>7.0f}{r.peak:>6.0f}{per_kb:>10.1f}{r.cpu_held:>10.1f}"
        f"{statistics.median(r.health_ms):>12.1f}{max(r.health_ms):>7.1f}"
    )
    print(
        f"(open: sockets that got hello and were still open after the hold; RSS in MiB; base:"
        f" after {WARM_SOCKETS} warm-up sockets; held: after {r.hold_s:.0f} s idle; KB/socket ="
        f" (held - base) / open; CPU ms/open: the server's CPU per socket opened (session,"
        f" upgrade, hello); wait%: the server runnable but waiting for a CPU while they opened;"
        f" others%: the rest of the machine meanwhile, not this client nor the server, in % of"
        f" one core; server fd limit {r.server_fds})"
    )
    if r.failures:
        print(f"failed to open: {dict(r.failures)}")


# --- 2. round trips ---------------------------------------------------------------------


async def visitor_tabs(trips: Trips, widgets: Sequence[Widget]) -> list[tuple[Tab, Tab]]:
    """Each visitor: a session, a sending socket and (with two servers) a receiving one on
    the other server - in ``crossed`` mode every second visitor the other way round; then a
    first message (it creates the conversation) echoed to the receiving socket."""

    async def one(i: int) -> tuple[Tab, Tab]:
        send_on = widgets[i % 2 if trips.mode == "crossed" else 0]
        receive_on = widgets[-1] if send_on is widgets[0] else widgets[0]
        token = await send_on.session()
        sender = Tab((await send_on.socket(token))[0], trips, receives=send_on is receive_on)
        receiver = sender
        if receive_on is not send_on:
            receiver = Tab((await receive_on.socket(token))[0], trips, receives=True)
        cid = f"first-{i}"
        receiver.first[cid] = asyncio.get_running_loop().create_future()
        await sender.send(cid)
        await asyncio.wait_for(receiver.first[cid], 30)
        return sender, receiver

    pairs = await bounded(trips.visitors, 20, one)
    for p in pairs:
        if isinstance(p, BaseException):
            raise p
    return pairs


async def pace(trips: Trips, senders: Sequence[Tab], rate: float, seconds: float, tag: str) -> int:
    """Send ``rate`` messages a second for ``seconds``, round-robin over ``senders`` (so each
    visitor sends evenly spaced); record send times when ``tag`` is measured."""
    measured = tag == "m"
    started = time.perf_counter()
    n = 0
    while True:
        now = time.perf_counter()
        if now - started >= seconds:
            break
        due = int((now - started) * rate) + 1 - n
        for _ in range(due):
            cid = f"{tag}-{n}"
            if measured:
                trips.sent_at[cid] = time.perf_counter()
            await senders[n % len(senders)].send(cid)
            n += 1
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
    if measured:
        trips.send_span = time.perf_counter() - started
    return n


async def roundtrip_row(args: argparse.Namespace, mode: str, database: str, tmp: str) -> Trips:
    progress(f"{mode}/{database}: database")
    url = await prepare_database(database, args.pg_url, tmp)
    key = await seed(url)
    redis_url = args.redis_url if mode != "memory" else None
    progress(f"{mode}/{database}: servers")
    procs = await serve_all(url, redis_url, 1 if mode == "memory" else 2)
    trips = Trips(mode, database, args.visitors, args.rate)
    try:
        async with http_client(20) as http:
            widgets = [Widget(http, base, key) for _proc, base in procs]
            progress(f"{mode}/{database}: visitors")
            pairs = await visitor_tabs(trips, widgets)
            progress(f"{mode}/{database}: sending")
            senders = [s for s, _r in pairs]
            await pace(trips, senders, args.rate, args.warmup, "w")
            backends = pg_backends(url)
            servers = [p.pid for p, _b in procs]
            meter = Meter([*servers, os.getpid(), *backends])
            echoes = trips.echoes
            await pace(trips, senders, args.rate, args.seconds, "m")
            wall, cpu, wait = meter.read()
            trips.others_cpu = max(0.0, meter.machine - sum(cpu))  # ticks vs ns: approximate
            if backends:
                trips.db_cpu = sum(cpu[len(servers) + 1 :])
            cpu, wait = cpu[: len(servers) + 1], wait[: len(servers) + 1]
            done = max(1, trips.echoes - echoes)
            trips.cpu_ms = sum(cpu[:-1]) * wall * 10 / done
            trips.busiest_ms = max(cpu[:-1]) * wall * 10 / done
            trips.cpu, trips.client_cpu = cpu[:-1], cpu[-1]
            trips.wait, trips.client_wait = wait[:-1], wait[-1]
            deadline = time.perf_counter() + LOST_AFTER
            while len(trips.echo_ms) < len(trips.sent_at) and time.perf_counter() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.gather(*(t.close() for t in {t for pair in pairs for t in pair}))
    finally:
        for proc, _base in procs:
            stop(proc)
    return trips


def print_trips(rows: Sequence[Trips], seconds: float) -> None:
    print(f"\n2. Message round trip (send -> message.created echo), {seconds:.0f} s measured a row")
    header = (
        f"{'mode':<8}{'db':<9}{'visitors':>9}{'target/s':>9}{'sent/s':>7}{'sent':>7}"
        f"{'p50 ms':>8}{'p95':>7}{'p99':>7}{'max':>7}{'ack p50':>8}{'errors':>7}{'lost':>6}"
        f"{'server CPU%':>12}{'ms/msg':>7}{'1-core/s':>9}{'wait%':>8}{'client CPU%':>12}"
        f"{'wait%':>6}{'db CPU%':>8}{'others%':>8}"
    )
    print(header)
    print("-" * len(header))
    nan = float("nan")
    for r in rows:
        rtt = r.rtt
        sent = len(r.sent_at)
        rate = sent / r.send_span if r.send_span else nan
        print(
            f"{r.mode:<8}{r.database:<9}{r.visitors:>9}{r.rate:>9.0f}{rate:>7.0f}{sent:>7}"
            f"{statistics.median(rtt) if rtt else nan:>8.1f}{pct(rtt, 95):>7.1f}"
            f"{pct(rtt, 99):>7.1f}{max(rtt, default=nan):>7.0f}"
            f"{statistics.median(r.ack_ms) if r.ack_ms else nan:>8.1f}"
            f"{sum(r.errors.values()):>7}{sent - len(rtt):>6}"
            f"{'/'.join(f'{c:.0f}' for c in r.cpu):>12}{r.cpu_ms:>7.2f}"
            f"{1000 / r.busiest_ms if r.busiest_ms else nan:>9.0f}"
            f"{'/'.join(f'{w:.0f}' for w in r.wait):>8}{r.client_cpu:>12.0f}{r.client_wait:>6.0f}"
            f"{r.db_cpu:>8.0f}{r.others_cpu:>8.0f}"
        )
        if r.errors:
            print(f"  errors: {dict(r.errors)}")
    print(
        "(CPU% and wait% (runnable but waiting for a CPU) in % of one core; two-server rows: A"
        " (redis: sends) / B (receives); ms/msg: CPU of all servers per message echoed meanwhile;"
        " 1-core/s: messages/s at which the busiest server process would fill one core;"
        f" lost: no echo in {LOST_AFTER:.0f} s; db CPU%: PostgreSQL's processes serving the"
        " database, all together (SQLite's work is in the server's CPU); others%: the rest of"
        f" the machine ({os.cpu_count()} cores = {100 * (os.cpu_count() or 1)}%))"
    )


# --- main -------------------------------------------------------------------------------


STARTED = time.perf_counter()


def progress(what: str) -> None:
    print(f"... {time.perf_counter() - STARTED:5.1f} s {what}", file=sys.stderr, flush=True)


def machine_note(fd_limit: int) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load}, client fd limit {fd_limit}"
    )


async def main_async(args: argparse.Namespace) -> None:
    tmp = tempfile.mkdtemp(prefix="frontline-realtime-")
    os.environ.setdefault("BENCH_SERVER_LOG", f"{tmp}/server.log")
    fd_limit = raise_fd_limit()
    if args.connections + 100 > fd_limit:
        raise SystemExit(f"--connections {args.connections} needs more than {fd_limit} fds")
    print(machine_note(fd_limit) + " (before)", flush=True)
    idle: Idle | None = None
    if "idle" in args.parts:
        idle = await idle_part(args, tmp)
        progress(f"idle: {idle.hello}/{idle.connections} sockets")
    rows: list[Trips] = []
    if "roundtrip" in args.parts:
        plan = [("memory", db) for db in args.database if "memory" in args.modes]
        plan += [(m, "postgres") for m in ("redis", "crossed") if m in args.modes]
        for mode, database in plan:
            rows.append(await roundtrip_row(args, mode, database, tmp))
            progress(f"{mode}/{database}: done")
    if idle is not None:
        print_idle(idle)
    if rows:
        print_trips(rows, args.seconds)
    print(machine_note(fd_limit) + " (after)")
    print(f"server logs: {os.environ['BENCH_SERVER_LOG']}")


def csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="500 sockets, 5 s rows: under a minute")
    ap.add_argument("--parts", type=csv, default=["idle", "roundtrip"])
    ap.add_argument("--connections", type=int, default=None, help="idle sockets (5000)")
    ap.add_argument("--open-concurrency", type=int, default=100)
    ap.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="idle sockets: offer permessage-deflate, as browsers do, or not",
    )
    ap.add_argument("--hold", type=float, default=None, help="idle seconds (10)")
    ap.add_argument("--visitors", type=int, default=100)
    ap.add_argument("--rate", type=float, default=500.0, help="messages/s, all visitors")
    ap.add_argument("--seconds", type=float, default=None, help="measured seconds (20)")
    ap.add_argument("--warmup", type=float, default=None, help="unmeasured seconds (3)")
    ap.add_argument("--modes", type=csv, default=["memory", "redis"], help="memory, redis, crossed")
    ap.add_argument("--database", type=csv, default=["sqlite", "postgres"])
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    args = ap.parse_args()
    quick = args.quick
    args.connections = args.connections or (500 if quick else 5000)
    args.hold = args.hold if args.hold is not None else (3.0 if quick else 10.0)
    args.seconds = args.seconds or (5.0 if quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 3.0)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_async(args))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
