"""``frontline doctor``: check a configuration and say what is wrong in plain words.

Every check returns :class:`Finding` rows (``ok``, ``warning`` or ``error``) instead of
raising, so one broken part never hides the others. Errors are what stops Frontline from
working (no database, a schema behind the code, secrets that no configured key opens);
warnings are what works but will bite (the development key, HTTP webhooks, several
processes without Redis). The command exits 1 when there is an error.

This module reads stored ciphertext columns across domains directly: it is an operations
tool beside the CLI, not a domain, and must keep working when a domain's code cannot
(for instance against a schema that is behind).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from frontline.kit.crypto import DecryptionError, SecretBox
from frontline.settings import DEV_SECRET_KEY, Settings

Level = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    level: Level
    area: str
    message: str


def load_settings() -> tuple[Settings | None, list[Finding]]:
    """The environment's settings, or the reasons they cannot be read."""
    try:
        return Settings(), []
    except ValidationError as exc:
        return None, [
            Finding("error", "settings", _setting_error(e["loc"], e["msg"])) for e in exc.errors()
        ]


def _setting_error(loc: tuple[int | str, ...], message: str) -> str:
    message = message.removeprefix("Value error, ")
    if not loc:
        return message
    return f"FRONTLINE_{'_'.join(str(p) for p in loc).upper()}: {message}"


def settings_findings(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    secret = settings.secret_key.get_secret_value()
    if secret == DEV_SECRET_KEY:
        out.append(
            Finding(
                "warning" if settings.env != "production" else "error",
                "secret key",
                "FRONTLINE_SECRET_KEY is the development default: anyone can forge tokens "
                "and read stored secrets. Set a random value of at least 32 characters "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))').",
            )
        )
    else:
        out.append(Finding("ok", "secret key", "a secret key of your own is set"))
    if settings.is_sqlite and settings.env == "production":
        out.append(
            Finding(
                "warning",
                "database",
                "production runs on SQLite: fine for one process on one machine; use "
                "PostgreSQL (FRONTLINE_DATABASE_URL=postgresql+asyncpg://...) to run several "
                "API processes and workers.",
            )
        )
    if settings.env == "production" and not settings.redis_url:
        out.append(
            Finding(
                "warning",
                "redis",
                "FRONTLINE_REDIS_URL is not set: realtime events, operator presence and rate "
                "limits stay inside one process. Set it when you run more than one "
                "`frontline serve`.",
            )
        )
    out.extend(_public_url_findings(settings.public_url))
    return out


def _public_url_findings(public_url: str) -> list[Finding]:
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Finding(
                "error",
                "public URL",
                f"FRONTLINE_PUBLIC_URL={public_url!r} is not an http(s) URL: console links "
                "and channel webhooks are built from it.",
            )
        ]
    local = parts.hostname in ("localhost", "127.0.0.1", "::1") or parts.hostname.endswith(".local")
    if local:
        return [
            Finding(
                "warning",
                "public URL",
                f"FRONTLINE_PUBLIC_URL is {public_url}: messengers (Telegram, WhatsApp, Avito) "
                "cannot reach it, so their webhooks will not arrive. Set the address the "
                "internet reaches you at, or use polling where the channel offers it.",
            )
        ]
    if parts.scheme != "https":
        return [
            Finding(
                "warning",
                "public URL",
                f"FRONTLINE_PUBLIC_URL is {public_url}: Telegram and WhatsApp deliver webhooks "
                "only over HTTPS. Put Frontline behind a TLS proxy and use its https:// URL.",
            )
        ]
    return [Finding("ok", "public URL", f"webhooks will be registered at {public_url}")]


async def database_findings(settings: Settings, wait_seconds: float = 5.0) -> list[Finding]:
    """The database is reachable, its schema is current, and stored secrets open."""
    engine = create_async_engine(settings.database_url)
    try:
        async with asyncio.timeout(wait_seconds):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                current = await conn.run_sync(_current_revision)
                out = [Finding("ok", "database", f"reachable ({engine.dialect.name})")]
                out.append(_schema_finding(settings.database_url, current))
                if out[-1].level == "ok":
                    box = SecretBox(settings.secret_keys())
                    out.extend(await _secret_findings(conn, box))
                return out
    except TimeoutError:
        return [Finding("error", "database", f"no answer within {wait_seconds:g} s")]
    except Exception as exc:  # any driver error: say it in one line
        return [Finding("error", "database", f"cannot connect: {_one_line(exc)}")]
    finally:
        await engine.dispose()


def _current_revision(sync_conn: Any) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(sync_conn).get_current_revision()


def _schema_finding(database_url: str, current: str | None) -> Finding:
    from alembic.script import ScriptDirectory

    from frontline.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    if current is None:
        return Finding("error", "schema", "the database is empty: run `frontline migrate`")
    if current != head:
        return Finding(
            "error",
            "schema",
            f"the schema is at revision {current}, this release needs {head}: run "
            "`frontline migrate` (once, before starting the new release)",
        )
    return Finding("ok", "schema", f"up to date (revision {head})")


async def _secret_findings(conn: AsyncConnection, box: SecretBox) -> list[Finding]:
    """Every stored ciphertext opens with the configured keys (a lost key after a rotation
    shows here rather than as failing deliveries)."""
    failures: list[str] = []
    checked = 0
    rows = await conn.execute(
        text(
            "SELECT t.slug, c.name, c.config_encrypted, c.secret_encrypted "
            "FROM channels c JOIN tenants t ON t.id = c.tenant_id"
        )
    )
    for slug, name, config, secret in rows:
        for value in (config, secret):
            checked += 1
            if not _opens(box, value):
                failures.append(f"channel {name!r} of {slug}")
                break
    rows = await conn.execute(
        text(
            "SELECT t.slug, a.secrets_encrypted FROM ai_settings a "
            "JOIN tenants t ON t.id = a.tenant_id WHERE a.secrets_encrypted IS NOT NULL"
        )
    )
    for slug, value in rows:
        checked += 1
        if not _opens(box, value):
            failures.append(f"AI provider keys of {slug}")
    rows = await conn.execute(
        text(
            "SELECT t.slug, k.embedding_secret FROM kb_state k "
            "JOIN tenants t ON t.id = k.tenant_id WHERE k.embedding_secret IS NOT NULL"
        )
    )
    for slug, value in rows:
        checked += 1
        if not _opens(box, value):
            failures.append(f"the embedding key of {slug}")
    if failures:
        return [
            Finding(
                "error",
                "stored secrets",
                f"{len(failures)} cannot be decrypted with the configured keys "
                f"({', '.join(failures[:5])}{', ...' if len(failures) > 5 else ''}). Put the "
                "key they were encrypted with in FRONTLINE_PREVIOUS_SECRET_KEYS, then "
                "re-encrypt (POST /api/v1/ai/settings/rotate-keys per workspace).",
            )
        ]
    return [Finding("ok", "stored secrets", f"{checked} encrypted values open with the keys")]


def _opens(box: SecretBox, ciphertext: str) -> bool:
    try:
        box.decrypt(ciphertext)
    except DecryptionError:
        return False
    return True


async def redis_findings(settings: Settings, wait_seconds: float = 3.0) -> list[Finding]:
    if not settings.redis_url:
        return []
    import redis.asyncio as redis

    client = redis.from_url(settings.redis_url, socket_connect_timeout=wait_seconds)
    try:
        async with asyncio.timeout(wait_seconds):
            await client.ping()
    except Exception as exc:
        return [
            Finding("error", "redis", f"{settings.redis_url} does not answer: {_one_line(exc)}")
        ]
    finally:
        await client.aclose()
    return [Finding("ok", "redis", "reachable")]


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message[:300]


Check = Callable[[Settings], Awaitable[list[Finding]]]
CHECKS: tuple[Check, ...] = (database_findings, redis_findings)


async def diagnose(settings: Settings) -> list[Finding]:
    """All findings for ``settings``, in a stable order."""
    findings = settings_findings(settings)
    for check in CHECKS:
        findings.extend(await check(settings))
    return findings


def render(findings: list[Finding], *, as_json: bool) -> str:
    if as_json:
        return json.dumps([asdict(f) for f in findings], ensure_ascii=False)
    marks = {"ok": "ok     ", "warning": "WARNING", "error": "ERROR  "}
    return "\n".join(f"{marks[f.level]} {f.area}: {f.message}" for f in findings)
