"""A worker killed mid-delivery: another worker finishes the job after the lease, with the
same idempotency key, so a receiver that deduplicates by key sees the reply exactly once.

Real processes (``python -m frontline worker``), a real HTTP receiver on 127.0.0.1, the real
database of the test (SQLite file or PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import select

from frontline.deps import Services
from frontline.kit.time import as_utc
from frontline.models import DeliveryStatus, Job, JobStatus, Message, SenderType
from tests.conftest import TEST_SECRET, Factory

WAIT = 20.0  # upper bound of every wait for the workers' behaviour, seconds
# upper bound of a worker process's start (interpreter, imports, database): a few seconds
# alone, but well over WAIT on a loaded machine, so it is waited for apart from the behaviour
STARTUP = 180.0
LEASE_SECONDS = 2
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    idempotency_key: str | None
    body: dict[str, Any]
    at: float  # time.time() when the request arrived


@dataclass
class Receiver:
    """Records every callback; the first one hangs (the worker is then mid-job)."""

    requests: list[Received] = field(default_factory=list)
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}")
        with self.lock:
            self.requests.append(
                Received(handler.headers.get("Idempotency-Key"), body, time.time())
            )
            first = len(self.requests) == 1
        if first:
            self.first_arrived.set()
            self.release.wait(30)  # hang: never answer while the test runs
            return
        payload = b'{"ok": true}'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


@contextmanager
def receiver_server() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            with contextlib.suppress(OSError):  # the client went away (a killed worker)
                receiver.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False
    server.block_on_close = True  # server_close() joins the handler threads
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}/frontline-callback"
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def worker_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")}
    env.update(
        FRONTLINE_DATABASE_URL=database_url,
        FRONTLINE_SECRET_KEY=TEST_SECRET,
        FRONTLINE_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        FRONTLINE_WORKER_POLL_SECONDS="0.1",
        FRONTLINE_ENV="test",
        PYTHONUNBUFFERED="1",
    )
    return env


class Workers:
    """``frontline worker`` subprocesses; every one is killed and reaped on exit."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.env = worker_env(database_url)
        self.log_dir = log_dir
        self.procs: list[tuple[subprocess.Popen[bytes], IO[bytes], Path]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        path = self.log_dir / f"{name}.log"
        log = path.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "frontline", "worker"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append((proc, log, path))
        return proc

    async def started(self, proc: subprocess.Popen[bytes]) -> None:
        """Wait until ``proc`` has logged that its loop runs (it claims from then on)."""
        [path] = [p for q, _log, p in self.procs if q is proc]
        waited = time.monotonic()
        while b"worker started" not in path.read_bytes():
            if proc.poll() is not None:
                pytest.fail(f"worker pid {proc.pid} exited while starting\n{self.logs()}")
            if time.monotonic() - waited > STARTUP:
                pytest.fail(f"worker pid {proc.pid} not started after {STARTUP}s\n{self.logs()}")
            await asyncio.sleep(0.05)

    def logs(self) -> str:
        out = []
        for proc, log, path in self.procs:
            log.flush()
            tail = path.read_text(errors="replace")[-4000:]
            out.append(f"--- worker pid {proc.pid} (exit {proc.poll()}) ---\n{tail}")
        return "\n".join(out)

    def close(self) -> None:
        for proc, log, _path in self.procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            finally:
                log.close()


async def wait_until(
    what: str, predicate: Callable[[], Awaitable[bool]], workers: Workers, timeout: float = WAIT
) -> float:
    """Poll ``predicate`` until true; returns the seconds waited. Fails after ``timeout``."""
    started = time.monotonic()
    while not await predicate():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{workers.logs()}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def job_rows(services: Services) -> list[Job]:
    async with services.db.transaction() as s:
        # the delivery jobs (workers also keep their daily maintenance jobs scheduled)
        stmt = select(Job).where(Job.kind == "message.deliver").order_by(Job.id)
        return list((await s.execute(stmt)).scalars())


@pytest.mark.slow
async def test_killed_worker_mid_delivery_is_redelivered_once_with_the_same_key(
    factory: Factory, services: Services, database_url: str, tmp_path: Path
) -> None:
    timings: dict[str, float] = {}
    test_started = time.monotonic()
    with receiver_server() as (receiver, callback_url):
        workers = Workers(database_url, tmp_path)
        try:
            t = await factory.tenant(callback_url=callback_url)
            inbound = await factory.inbound(t, contact="cust-kill", text="Where is my order?")
            conversation_id = inbound["conversation_id"]

            first = workers.start("worker-a")
            await workers.started(first)
            r = await factory.client.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                headers=t.operator,
                json={"text": "It ships today."},
            )
            assert r.status_code == 201, r.text
            message_id = r.json()["id"]

            async def first_request_arrived() -> bool:
                assert first.poll() is None, f"worker A exited early\n{workers.logs()}"
                return receiver.first_arrived.is_set()

            timings["reply_to_first_request"] = await wait_until(
                "worker A to call the receiver", first_request_arrived, workers
            )

            # worker A is mid-job: the job is leased to it, the message not yet sent
            [job] = await job_rows(services)
            assert (job.status, job.attempts) == (JobStatus.RUNNING.value, 1)
            assert job.locked_by is not None and f":{first.pid}:" in job.locked_by
            lease_seen = as_utc(job.locked_until).timestamp() if job.locked_until else 0.0

            first.send_signal(signal.SIGKILL)
            first.wait(timeout=WAIT)
            killed_at = time.time()
            assert first.returncode == -signal.SIGKILL

            second = workers.start("worker-b")
            await workers.started(second)

            async def redelivered_and_done() -> bool:
                assert second.poll() is None, f"worker B exited early\n{workers.logs()}"
                [row] = await job_rows(services)
                return row.status == JobStatus.DONE.value and len(receiver.snapshot()) >= 2

            timings["kill_to_done"] = await wait_until(
                "worker B to reclaim and finish the job", redelivered_and_done, workers
            )
            await asyncio.sleep(0.5)  # room for a (wrong) extra delivery to show up

            requests = receiver.snapshot()
            timings["kill_to_redelivery"] = requests[1].at - killed_at

            # the same delivery, twice on the wire, one idempotency key: exactly once in effect
            assert len(requests) == 2, [(q.idempotency_key, q.at) for q in requests]
            assert {q.idempotency_key for q in requests} == {f"deliver:{message_id}"}
            assert requests[0].body == requests[1].body
            assert requests[0].body["message_id"] == message_id
            assert requests[0].body["text"] == "It ships today."
            # not taken over before the dead worker's lease ran out
            assert requests[1].at >= lease_seen - 0.05

            [job] = await job_rows(services)
            assert (job.kind, job.status, job.attempts) == (
                "message.deliver",
                JobStatus.DONE.value,
                2,
            )
            assert job.locked_by is not None and f":{second.pid}:" in job.locked_by
            assert job.finished_at is not None

            async with services.db.transaction() as s:
                messages = list(
                    (
                        await s.execute(
                            select(Message)
                            .where(Message.conversation_id == conversation_id)
                            .order_by(Message.id)
                        )
                    ).scalars()
                )
            assert [(m.sender_type, m.text) for m in messages] == [
                (SenderType.CONTACT.value, "Where is my order?"),
                (SenderType.OPERATOR.value, "It ships today."),
            ]
            assert messages[1].id == message_id
            assert messages[1].delivery_status == DeliveryStatus.SENT.value
            assert messages[1].failure_reason is None
        finally:
            workers.close()
    timings["total"] = time.monotonic() - test_started
    print("kill test timings: " + ", ".join(f"{k}={v:.2f}s" for k, v in timings.items()))
