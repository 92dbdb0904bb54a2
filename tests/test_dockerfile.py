"""The image and the compose file, read statically (no Docker daemon on the CI machine): a
small multi-stage image that runs as a non-root user with a health check on a route the
application really serves, a build context without local state, and every container of the
compose file either health-checked or explicitly exempt with a reason (one-off, no HTTP)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from frontline.app import create_app
from frontline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split by ``FROM``."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_image_is_small_and_built_in_stages() -> None:
    stages = _stages()
    assert len(stages) >= 2, "a build stage keeps compilers and wheels out of the image"
    final = stages[-1]
    base = final[0].split()[1]
    assert base.endswith("-slim") or "alpine" in base, base
    assert not any(re.match(r"RUN .*apt-get install", ln) for ln in final)
    assert any("--no-cache-dir" in ln for ln in final if ln.startswith("RUN pip"))
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "*.db", "test-artifacts"} <= set(ignored)


def test_the_image_runs_as_a_non_root_user() -> None:
    final = _stages()[-1]
    users = [ln.split()[1] for ln in final if ln.upper().startswith("USER ")]
    assert users, "the final stage names its user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = [ln for ln in final if "useradd" in ln and user in ln]
    assert created, f"the user {user} is created in the image"
    uid = re.search(r"--uid (\d+)", created[0])
    assert uid and int(uid.group(1)) > 0
    # the process runs as that user: nothing after USER switches back
    after = final[final.index(next(ln for ln in final if ln.startswith("USER "))) :]
    assert not any(ln.startswith("USER ") and "root" in ln for ln in after)


def test_the_health_check_probes_a_route_the_api_serves(tmp_path: Path) -> None:
    final = _stages()[-1]
    [check] = [ln for ln in final if ln.upper().startswith("HEALTHCHECK ")]
    assert "--interval=" in check and "--timeout=" in check
    [url] = re.findall(r"http://127\.0\.0\.1:(\d+)(/[\w/-]*)", check)
    port, path = url
    cmd = next(ln for ln in final if ln.startswith("CMD "))
    assert f'"--port", "{port}"' in cmd
    app = create_app(
        Settings(env="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        run_worker=False,
    )
    assert path in {getattr(r, "path", None) for r in app.routes}


def test_every_long_running_container_is_health_checked() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    # the API inherits the image's HEALTHCHECK; the one-off migration and the worker (no
    # HTTP) disable it explicitly instead of failing it
    assert "healthcheck" not in services["api"]
    for name in ("migrate", "worker"):
        assert services[name]["healthcheck"] == {"disable": True}
    # the proxy checks the API processes itself
    assert "health_uri /health" in (ROOT / "deploy" / "Caddyfile").read_text()
    # the API and worker wait for healthy PostgreSQL and Redis (via the migration)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
