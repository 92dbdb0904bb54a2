"""A real ``frontline serve`` process for tests that need one over HTTP (the browser tests,
the API contract fuzzer): a fresh SQLite file, a free port, the in-process worker and the
demo workspace made by ``frontline demo --json``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import TEST_SECRET

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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
