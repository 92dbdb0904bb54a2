"""Real ``frontline`` processes for tests that need them over HTTP.

:func:`demo_server` is one ``frontline serve`` (the browser tests, the API contract fuzzer):
a fresh SQLite file, a free port, the in-process worker and the demo workspace made by
``frontline demo --json``. :func:`spawn_frontline`, :func:`wait_healthy` and
:func:`log_tails` start and watch the API and worker processes of a scale-out or fault test
(and its benchmark), each logging to its own file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from frontline.app import create_app
from frontline.deps import Services
from frontline.settings import Settings
from tests.conftest import TEST_SECRET

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def spawn_frontline(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m frontline <args>`` with ``env``, stdout and stderr appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "frontline", *args], env=env, stdout=out, stderr=out
        )


def log_tails(logs: Path) -> str:
    """The end of each ``*.log`` in ``logs`` (to show why a process or a check failed)."""
    return "\n".join(f"{p.name}: {p.read_text()[-1500:]}" for p in sorted(logs.glob("*.log")))


def wait_healthy(
    port: int, procs: list[subprocess.Popen[bytes]], logs: Path, seconds: float = 240
) -> None:
    """Until ``/health`` on ``port`` answers 200; fails with the logs when a process exits
    first or the time runs out (a loaded 2-core machine starts processes slowly)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"a process exited:\n{log_tails(logs)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"frontline serve did not become healthy:\n{log_tails(logs)}")


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every process, then wait for each (killed after 30 s)."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def side_services(database_url: str) -> AsyncIterator[Services]:
    """The test's own services on the processes' database (to seed tenants and read back
    what the processes wrote), with no worker of their own."""
    settings = Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        run_worker_in_process=False,
        log_json=False,
    )
    services: Services = create_app(settings, run_worker=False).state.services
    try:
        yield services
    finally:
        await services.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(
    folder: Path, log_name: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(base URL, the demo's JSON)`` of a server running until the block ends; its log is
    copied to ``test-artifacts/<log_name>`` afterwards, for when a test fails."""
    base = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/frontline.db",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_PUBLIC_URL": base,
        "FRONTLINE_LOG_JSON": "false",
        "FRONTLINE_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontline", "serve", "--port", base.rsplit(":", 1)[1]],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180  # generous: a loaded machine imports slowly
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (folder / "serve.log").read_text()
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        demo = subprocess.run(
            [sys.executable, "-m", "frontline", "demo", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        yield base, json.loads(demo.stdout)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / log_name).write_text((folder / "serve.log").read_text("utf-8"))
