"""Instructions per inbound request, counted by callgrind: a quiet, repeatable figure for
the inbound path (timings on a shared machine are noise; see ``benchmarks/ingest.py``).

The app is built as ``frontline serve --no-demo`` builds it and driven in process over raw
ASGI (no server, no sockets): ``--warmup`` requests per row, then ``--requests`` counted
ones. Counting is switched on only around the counted requests (callgrind client requests
from a tiny C helper compiled here with ``cc``), over every thread of the process (SQLite's
work runs in aiosqlite's thread). Rows: the API channel (known contact, ongoing
conversation), the Telegram webhook (known chat), a redelivery of an API message, and the
bare one-INSERT endpoint of ``benchmarks/bare_app.py``. The database is seeded as the
ingest benchmark seeds it.

    python benchmarks/inbound_instructions.py [--backends sqlite,postgres]
        [--requests 100] [--warmup 100] [--pg-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import ingest  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/frontline_instr"
_HELPER = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(const char *label) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT(label); }
"""


def _helper(tmp: str) -> ctypes.CDLL:
    src, lib = Path(tmp, "cg.c"), Path(tmp, "cg.so")
    src.write_text(_HELPER)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", str(src), "-o", str(lib)], check=True)
    return ctypes.CDLL(str(lib))


async def _call(app: Any, path: str, headers: dict[str, str], body: bytes) -> int:
    """One POST through the ASGI app; returns the status code."""
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


Row = tuple[str, str, dict[str, str], Callable[[int], bytes]]


async def _drive(app: Any, rows: list[Row], warmup: int, n: int, helper: ctypes.CDLL) -> None:
    async with app.router.lifespan_context(app):
        from frontline.cli import _tune_gc

        _tune_gc()
        for label, path, headers, make in rows:
            for i in range(warmup):
                status = await _call(app, path, headers, make(i))
                assert status in (200, 202), (label, status)
            helper.cg_start()
            for i in range(warmup, warmup + n):
                await _call(app, path, headers, make(i))
            helper.cg_stop(label.encode())


def child(args: argparse.Namespace) -> int:
    info = json.loads(args.child)
    helper = _helper(info["tmp"])
    os.environ.update(info["env"])
    if info["bare"]:
        os.environ["BENCH_DATABASE_URL"] = info["url"]
        from benchmarks.bare_app import app as bare

        make = ingest.body_factory(ingest.SEEDED_CONTACTS)
        rows: list[Row] = [
            ("bare", "/bare", {}, lambda i: json.dumps(make(0, i)).encode())  # type: ignore[operator]
        ]
        asyncio.run(_drive(bare, rows, args.warmup, args.requests, helper))
        return 0
    from frontline import runtime
    from frontline.app import create_app
    from frontline.settings import Settings

    settings = runtime.for_serve(Settings(), "http://127.0.0.1:8000")  # type: ignore[call-arg]
    app = create_app(settings)
    api = ingest.body_factory(ingest.SEEDED_CONTACTS)
    tg = ingest.telegram_body_factory(ingest.SEEDED_CONTACTS)
    auth = {"Authorization": f"Bearer {info['secret']}"}
    api_path = f"/api/v1/channels/{info['channel']}/messages"
    first = json.dumps(api(0, 0)).encode()  # type: ignore[operator]
    rows = [
        ("api", api_path, auth, lambda i: json.dumps(api(1, i)).encode()),  # type: ignore[operator]
        (
            "telegram",
            f"/api/v1/webhooks/telegram/{info['tg_channel']}",
            {"X-Telegram-Bot-Api-Secret-Token": info["tg_secret"]},
            lambda i: json.dumps(tg(2, i)).encode(),  # type: ignore[operator]
        ),
        ("api redelivery", api_path, auth, lambda _i: first),
    ]
    asyncio.run(_drive(app, rows, args.warmup, args.requests, helper))
    return 0


def _totals(out: Path) -> dict[str, int]:
    """label -> instructions, from callgrind's dump files."""
    found: dict[str, int] = {}
    for dump in out.parent.glob(out.name + "*"):
        label = total = None
        for line in dump.read_text().splitlines():
            if line.startswith("desc: Trigger: Client Request: "):
                label = line.split("Client Request: ", 1)[1].strip()
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
        if label is not None and total is not None:
            found[label] = found.get(label, 0) + total
    return found


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    tmp = tempfile.mkdtemp(prefix="frontline-instr-")
    results: list[tuple[str, str, float]] = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        else:
            url = args.pg_url
            asyncio.run(ingest.prepare_postgres(url))
        from frontline.migrate import upgrade

        upgrade(url)
        channel, secret = asyncio.run(ingest.seed(url))
        tg_channel, tg_secret = asyncio.run(ingest.seed_telegram(url))
        env = {
            "FRONTLINE_DATABASE_URL": url,
            "FRONTLINE_SECRET_KEY": ingest.SECRET,
            "FRONTLINE_LOG_LEVEL": "WARNING",
            "FRONTLINE_ENV": "test",
            "FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE": "100000000",
            "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "100000000",
        }
        for bare in (False, True):
            out = Path(tmp, f"cg-{backend}-{int(bare)}-{time.time_ns()}.out")
            info = {
                "tmp": tmp,
                "env": env,
                "url": url,
                "bare": bare,
                "channel": channel,
                "secret": secret,
                "tg_channel": tg_channel,
                "tg_secret": tg_secret,
            }
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                f"--requests={args.requests}",
                f"--warmup={args.warmup}",
                "--child",
                json.dumps(info),
            ]
            done = subprocess.run(
                cmd, env={**os.environ, **env, "PYTHONHASHSEED": "0"}, capture_output=True
            )
            if done.returncode != 0:
                sys.stderr.write(done.stderr.decode()[-4000:])
                return 1
            for label, total in sorted(_totals(out).items()):
                results.append((backend, label, total / args.requests))
        print(f"... {backend} done", file=sys.stderr, flush=True)
    print(f"{'db':<10}{'row':<18}{'instructions/request':>22}")
    for backend, label, per in results:
        print(f"{backend:<10}{label:<18}{per:>22,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
