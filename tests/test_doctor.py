"""``frontline doctor``: each check against real databases and a real (or absent) Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.doctor import Finding, database_findings, diagnose, redis_findings
from frontline.doctor import settings_findings as static_findings
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.settings import DEV_SECRET_KEY, Settings
from tests.conftest import TEST_SECRET, Factory

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")
OTHER_SECRET = "another-secret-key-0123456789abcdef0123456789"


def _levels(findings: list[Finding], area: str) -> list[str]:
    return [f.level for f in findings if f.area == area]


def test_public_url_and_secret_advice() -> None:
    def check(**kw: object) -> list[Finding]:
        return static_findings(Settings(secret_key=TEST_SECRET, **kw))  # type: ignore[arg-type]

    assert _levels(check(public_url="https://support.example.com"), "public URL") == ["ok"]
    http = check(public_url="http://support.example.com")
    assert _levels(http, "public URL") == ["warning"] and "HTTPS" in http[-1].message
    assert _levels(check(public_url="http://127.0.0.1:8000"), "public URL") == ["warning"]
    assert _levels(check(public_url="support.example.com"), "public URL") == ["error"]
    dev = static_findings(Settings(secret_key=DEV_SECRET_KEY))  # type: ignore[arg-type]
    assert _levels(dev, "secret key") == ["warning"]
    production = check(env="production", public_url="https://s.example.com")
    assert _levels(production, "redis") == ["warning"]
    assert _levels(production, "database") == ["warning"]  # SQLite in production


async def test_a_secret_no_configured_key_opens_is_an_error(
    factory: Factory, settings: Settings
) -> None:
    t = await factory.tenant()
    box = SecretBox([OTHER_SECRET])  # a channel stored under a key the server no longer has
    async with factory.services.db.transaction() as session:
        await channels.create_channel(
            session, TenantScope(t.id), box, channel_type=ChannelType.API, name="Old", config={}
        )
    found = await database_findings(settings)
    assert _levels(found, "database") == ["ok"] and _levels(found, "schema") == ["ok"]
    [secrets] = [f for f in found if f.area == "stored secrets"]
    assert secrets.level == "error" and "'Old'" in secrets.message
    assert "FRONTLINE_PREVIOUS_SECRET_KEYS" in secrets.message

    rotated = settings.model_copy(update={"previous_secret_keys": OTHER_SECRET})
    assert _levels(await database_findings(rotated), "stored secrets") == ["ok"]


async def test_an_empty_database_needs_migrating(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    found = await database_findings(settings)
    assert _levels(found, "schema") == ["error"]
    assert "frontline migrate" in found[-1].message


async def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    [finding] = await database_findings(settings, wait_seconds=10)
    assert finding.level == "error" and "\n" not in finding.message


async def test_redis() -> None:
    down = Settings(redis_url="redis://127.0.0.1:1/0")
    assert _levels(await redis_findings(down), "redis") == ["error"]
    assert await redis_findings(Settings()) == []
    if REDIS_URL:
        assert _levels(await redis_findings(Settings(redis_url=REDIS_URL)), "redis") == ["ok"]


async def test_everything_fine_has_no_error(settings: Settings) -> None:
    assert not [f for f in await diagnose(settings) if f.level == "error"]


@pytest.mark.parametrize("broken", [False, True])
def test_the_command_exits_1_on_an_error(tmp_path: Path, broken: bool) -> None:
    env = {
        **os.environ,
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_PUBLIC_URL": "https://support.example.com",
    }
    env.pop("FRONTLINE_REDIS_URL", None)
    run = [sys.executable, "-m", "frontline"]
    if not broken:
        subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [*run, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    findings = json.loads(done.stdout)
    assert done.returncode == (1 if broken else 0), done.stdout
    assert {f["area"] for f in findings} >= {"secret key", "public URL", "database", "schema"}
