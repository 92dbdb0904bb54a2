"""The deployment files: the image's commands are real CLI commands, and an installed
package (no source tree) migrates and serves with FRONTLINE_MIGRATIONS_DIR, as the image
runs it. No Docker engine runs here, so the image itself is not built in tests."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import yaml

from frontline.cli import build_parser
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    return data


def _dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    [cmd] = re.findall(r"^CMD (\[.*\])$", text, re.M)
    parsed: list[str] = yaml.safe_load(cmd)
    return parsed


def test_every_command_the_deployment_runs_parses() -> None:
    parser = build_parser()
    commands = [_dockerfile_cmd()]
    commands += [svc["command"] for svc in _compose()["services"].values() if "command" in svc]
    frontline = [c for c in commands if c[0] == "frontline"]
    assert {c[1] for c in frontline} == {"serve", "worker", "migrate"}
    for command in frontline:
        parser.parse_args(command[1:])  # SystemExit on an unknown flag


def test_compose_wires_the_parts() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "api", "worker", "proxy"} <= set(services)
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["FRONTLINE_REDIS_URL"].startswith("redis://redis")
        assert services[name]["environment"]["FRONTLINE_ENV"] == "production"
    assert "ports" not in services["api"]  # reached only through the TLS proxy
    for secret in compose["secrets"].values():  # secret files are never committed
        path = ROOT / "deploy" / secret["file"]
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False
        ).returncode
        assert ignored == 0, f"{path} must be git-ignored"
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy api:8000" in caddy
    # metrics are scraped inside the compose network, never served on the public address
    assert "@metrics path /metrics" in caddy and "respond @metrics 404" in caddy
    assert services["worker"]["environment"]["FRONTLINE_WORKER_METRICS_PORT"] == "9100"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_an_installed_wheel_migrates_and_serves(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
    )
    [wheel] = wheels.glob("frontline-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    for needed in (
        "frontline/console/widget/1-config.js",
        "frontline/console/static/console/main.js",
        "frontline/console/templates/console.html",
        "frontline/demo_knowledge/tours-ru.md",
    ):
        assert needed in names, needed
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-t", str(site), str(wheel)],
        check=True,
        timeout=300,
    )
    workdir = tmp_path / "run"  # no source tree here: only the installed package
    workdir.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "FRONTLINE_MIGRATIONS_DIR": str(ROOT / "migrations"),
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/prod.db",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_ENV": "production",
        "FRONTLINE_LOG_JSON": "false",
    }
    probe = "import frontline, sys; print(frontline.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=workdir, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(site)), where.stdout  # the installed copy is used
    migrate = subprocess.run(
        [sys.executable, "-m", "frontline", "migrate"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    port = _free_port()
    serve = shlex.split(f"serve --host 127.0.0.1 --port {port} --no-demo --no-migrate")
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontline", *serve],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                login = httpx.get(f"http://127.0.0.1:{port}/console/login", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the installed server did not start"
                time.sleep(0.3)
        assert health.status_code == 200
        assert login.status_code == 200  # templates and static files ship in the wheel
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_settings_read_secret_files(tmp_path: Path) -> None:
    (tmp_path / "frontline_secret_key").write_text("from-a-docker-secret-" + "x" * 20)
    env = {**os.environ, "FRONTLINE_SECRETS_DIR": str(tmp_path)}
    env.pop("FRONTLINE_SECRET_KEY", None)
    probe = (
        "from frontline.settings import Settings; print(Settings().secret_key.get_secret_value())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "from-a-docker-secret-" + "x" * 20, done.stderr
