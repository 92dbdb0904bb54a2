"""The realtime benchmark's servers: ``frontline serve`` processes on a seeded database, and
what is read of them (RSS, CPU, scheduler waits, file-descriptor limits, PostgreSQL
backends)."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from benchmarks.ingest import SECRET, free_port, prepare_postgres, start, stop

# --- processes --------------------------------------------------------------------------


def raise_fd_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; servers started later inherit it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def proc_status(pid: int, key: str) -> float:
    """A ``/proc/<pid>/status`` memory field in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sched_seconds(pid: int) -> tuple[float, float]:
    """Seconds process ``pid`` (all its threads) ran on a CPU, and waited runnable for one
    (``/proc/<pid>/task/*/schedstat``)."""
    run = wait = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            fields = stat.read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        run, wait = run + int(fields[0]), wait + int(fields[1])
    return run / 1e9, wait / 1e9


def pg_backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving ``url``'s database now (by process title)."""
    if not url.startswith("postgresql"):
        return []
    marker = f" {url.rsplit('/', 1)[-1].split('?')[0]} ".encode()
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:
            pids.append(int(cmdline.parent.name))
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle so far (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU use and run-queue wait of some processes over an interval, each in % of the
    interval (100% = one core busy, or one thread waiting for a core all along), and what
    the whole machine used meanwhile."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.started = time.perf_counter()
        self.marks = [sched_seconds(p) for p in self.pids]
        self.busy = machine_busy_seconds()
        self.machine = 0.0  # % of one core, all processes (set by read)

    def read(self) -> tuple[float, list[float], list[float]]:
        """(seconds elapsed, CPU % per process, wait % per process)."""
        wall = time.perf_counter() - self.started
        now = [sched_seconds(p) for p in self.pids]
        self.machine = (machine_busy_seconds() - self.busy) / wall * 100
        # a process gone meanwhile reads as zero: it counts as nothing, not as negative
        cpu = [max(0, n[0] - m[0]) / wall * 100 for n, m in zip(now, self.marks, strict=True)]
        wait = [max(0, n[1] - m[1]) / wall * 100 for n, m in zip(now, self.marks, strict=True)]
        return wall, cpu, wait


def fd_limit_of(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


async def prepare_database(kind: str, pg_url: str, tmp: str) -> str:
    from frontline.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/realtime-{uuid.uuid4().hex[:6]}.db"
    else:
        if pg_url.rsplit("/", 1)[-1].split("?")[0] in ("test", "postgres"):
            raise SystemExit(f"refusing to drop and recreate {pg_url}: pick a benchmark database")
        url = pg_url
        await prepare_postgres(url)
    await asyncio.to_thread(upgrade, url)
    return url


async def seed(url: str) -> str:
    """A tenant with its AI off and a web channel allowing 600 messages a minute per
    visitor; returns the widget key."""
    from frontline.app import build_services
    from frontline.channels import service as channels
    from frontline.channels.base import ChannelType
    from frontline.kit.repository import TenantScope
    from frontline.models import AiSettings
    from frontline.realtime.visitors import widget_key
    from frontline.settings import Settings
    from frontline.tenants import service as tenants

    settings = Settings(database_url=url, secret_key=SECRET, env="test")
    services = build_services(settings)
    try:
        async with services.db.transaction() as s:
            tenant = await tenants.create_tenant(
                s, name="realtime bench", slug=f"rt-{uuid.uuid4().hex[:6]}"
            )
            s.add(AiSettings(tenant_id=tenant.id, ai_enabled=False))
            channel, _secret = await channels.create_channel(
                s,
                TenantScope(tenant.id),
                services.secret_box,
                channel_type=ChannelType.WEB,
                name="Web chat",
                config={"messages_per_minute": 600},
            )
            return widget_key(channel.id)
    finally:
        await services.db.dispose()


def serve(url: str, redis_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_SECRET_KEY": SECRET,
        "FRONTLINE_ENV": "test",
        # a load test measures throughput, not the abuse limits
        "FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE": "100000000",
        "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "100000000",
        "FRONTLINE_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "FRONTLINE_REDIS_URL": redis_url or "",
    }
    cmd = [sys.executable, "-m", "frontline", "serve", "--no-demo", "--no-migrate"]
    proc = start([*cmd, "--host", "127.0.0.1", "--port", str(port)], env, port)
    return proc, f"http://127.0.0.1:{port}"


async def serve_all(
    url: str, redis_url: str | None, count: int
) -> list[tuple[subprocess.Popen[bytes], str]]:
    """``count`` servers started side by side (all or none)."""
    started = await asyncio.gather(
        *(asyncio.to_thread(serve, url, redis_url) for _ in range(count)), return_exceptions=True
    )
    ok = [s for s in started if not isinstance(s, BaseException)]
    for s in started:
        if isinstance(s, BaseException):
            for proc, _base in ok:
                stop(proc)
            raise s
    return ok
