"""Private PostgreSQL clusters and redis-servers for fault benchmarks and tests.

Started from the installed binaries (``initdb``/``pg_ctl`` as the ``postgres`` user when run
as root; ``redis-server``) in a temporary folder on a free port, so stopping and starting them
touches no shared service. A service that cannot start raises :class:`FaultSetupError` with
the reason (the tool's output and the server's log).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.kit.liveserver import free_port


class FaultSetupError(RuntimeError):
    """A private service (PostgreSQL cluster, redis-server) could not be started."""


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def postgres_bin() -> Path:
    """The folder of ``initdb``/``pg_ctl`` (``FRONTLINE_PG_BIN``, else the newest
    ``/usr/lib/postgresql/*/bin``, else the ``PATH``)."""
    chosen = os.environ.get("FRONTLINE_PG_BIN")
    if chosen:
        return Path(chosen)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2] or 0))
    if found:
        return Path(found[-1])
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise FaultSetupError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL or set "
        "FRONTLINE_PG_BIN to their folder"
    )


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.bin = postgres_bin()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = _as_postgres([str(self.bin / args[0]), *args[1:]])
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FaultSetupError(f"{' '.join(cmd)} failed: {exc}") from exc
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise FaultSetupError(
                f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}\n{tail}"
            )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync", "--locale=C",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "120", "start")  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown: sessions are disconnected, like a crash or a failover."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "120", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(FaultSetupError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


class PrivateRedis:
    """A redis-server of our own on a free port (no persistence), stopped and started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        binary = shutil.which("redis-server")
        if binary is None:
            raise FaultSetupError("redis-server not found on PATH: install Redis")
        self.binary = binary

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.folder / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder)],
                stdout=log, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FaultSetupError(
                    f"redis-server exited:\n{(self.folder / 'redis.log').read_text()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise FaultSetupError("redis-server did not answer PING within 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None
