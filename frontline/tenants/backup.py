"""Backup and restore of one workspace: every row it owns, to a JSON document and back.

What is exported: the tenant row (settings, plan limits), its staff users (with password
hashes, so they can sign in after a restore) and their memberships, and every table with a
``tenant_id`` (a new one is included by itself; a test fails for a table that is neither
exported nor in :data:`SKIPPED_TABLES`): AI settings and call log, channels and their state,
categories, tags, canned replies, contacts, identities and attributes, conversations,
messages, attachment records, internal notes, knowledge documents and chunks, booking
templates, resources, departures, blocks and bookings, API keys (hashes), the audit log and
the analytics facts and daily usage (exported, not rebuilt: past reports stay the same). Not
exported: queued jobs and refresh tokens (sessions), and the analytics roll-ups
(``analytics_conversations``, ``analytics_hourly``: their triggers rebuild them as the
conversations and messages are restored). The attachment files go into the backup
archive beside this document (:mod:`frontline.tenants.archive`).

Secrets: by default none leave the database - a channel's config is exported with its
secret fields masked and without its webhook secret, AI provider keys and the embedding key
are dropped; such channels are restored switched off, with a new secret, for an admin to
fill in. ``with_secrets`` exports them decrypted (the file is then as sensitive as the keys:
keep it encrypted); a restore encrypts them again with the target's ``FRONTLINE_SECRET_KEY``,
so a backup moves between installations with different keys.

Ids are kept, so a restore into a database that already holds the workspace (or any of its
rows) is refused; users who already exist in the target (same id) are reused.
"""

from __future__ import annotations

import base64
import json
import secrets as random_secrets
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels.service import masked_config
from frontline.errors import Conflict, NotFound, Unprocessable
from frontline.kit.crypto import SecretBox
from frontline.kit.time import utcnow
from frontline.models import Base

FORMAT = "frontline-tenant-export"
VERSION = 1
# (the analytics roll-ups of conversations are derived: their triggers rebuild them as the
# conversations and messages are restored)
SKIPPED_TABLES = frozenset(
    {"jobs", "refresh_tokens", "analytics_conversations", "analytics_hourly"}
)
# (table, column) holding a SecretBox ciphertext
SECRET_COLUMNS = frozenset(
    {
        ("channels", "config_encrypted"),
        ("channels", "secret_encrypted"),
        ("ai_settings", "secrets_encrypted"),
        ("kb_state", "embedding_secret"),
    }
)


def _tables() -> list[Table]:
    """The tables a workspace's data lives in, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _dump(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _python_type(column: Any) -> type | None:
    """The column's Python type (a decorated type's underlying one); None for JSON."""
    for kind in (column.type, getattr(column.type, "impl", None)):
        if kind is None:
            continue
        try:
            found: type = kind.python_type
        except NotImplementedError:
            continue
        if found is not object:
            return found
    return None


_LOADERS: dict[type, Callable[[Any], Any]] = {
    uuid.UUID: lambda v: uuid.UUID(str(v)),
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    time: time.fromisoformat,
    Decimal: Decimal,
    bytes: base64.b64decode,
}


def _load(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name not in table.c:
            raise Unprocessable(f"unknown column {table.name}.{name} in the export")
        loader = _LOADERS.get(_python_type(table.c[name]) or object)
        out[name] = loader(value) if loader is not None and value is not None else value
    return out


def _owned(table: Table, tenant_id: uuid.UUID) -> Any:
    if table.name == "tenants":
        return select(table).where(table.c.id == tenant_id)
    if table.name == "users":
        members = Base.metadata.tables["memberships"]
        ids = select(members.c.user_id).where(members.c.tenant_id == tenant_id)
        return select(table).where(table.c.id.in_(ids))
    if "tenant_id" not in table.c:
        return None
    return select(table).where(table.c.tenant_id == tenant_id)


async def find_tenant(session: AsyncSession, ref: str) -> uuid.UUID:
    """A workspace by id or slug."""
    tenants = Base.metadata.tables["tenants"]
    try:
        condition = tenants.c.id == uuid.UUID(ref)
    except ValueError:
        condition = tenants.c.slug == ref
    found = (await session.execute(select(tenants.c.id).where(condition))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no workspace {ref!r}")
    return uuid.UUID(str(found))


def _export_secret(
    table: str, column: str, row: dict[str, Any], box: SecretBox, with_secrets: bool
) -> Any:
    value = row[column]
    if value is None:
        return None
    if with_secrets:
        return box.decrypt(value)
    if (table, column) == ("channels", "config_encrypted"):
        return json.dumps(masked_config(row["type"], json.loads(box.decrypt(value))))
    return None


async def export_tenant(
    session: AsyncSession, box: SecretBox, tenant_id: uuid.UUID, *, with_secrets: bool = False
) -> dict[str, Any]:
    """The workspace as one JSON-able document (see the module doc)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _tables():
        query = _owned(table, tenant_id)
        if query is None:
            continue
        query = query.order_by(*table.primary_key.columns)
        rows = []
        for raw in (await session.execute(query)).mappings():
            row = dict(raw)
            for name in list(row):
                if (table.name, name) in SECRET_COLUMNS:
                    row[name] = _export_secret(table.name, name, row, box, with_secrets)
            rows.append({name: _dump(value) for name, value in row.items()})
        tables[table.name] = rows
    if not tables.get("tenants"):
        raise NotFound("no such workspace")
    return {
        "format": FORMAT,
        "version": VERSION,
        "tenant_id": str(tenant_id),
        "with_secrets": with_secrets,
        "exported_at": utcnow().isoformat(),
        "tables": tables,
    }


def _import_secrets(
    table: str, row: dict[str, Any], box: SecretBox, with_secrets: bool
) -> dict[str, Any]:
    row = dict(row)
    for t, column in SECRET_COLUMNS:
        if t != table or column not in row:
            continue
        if with_secrets:
            row[column] = box.encrypt(row[column]) if row[column] is not None else None
        elif table == "channels" and column == "config_encrypted":
            row[column] = box.encrypt(row[column] or "{}")
        elif table == "channels" and column == "secret_encrypted":
            # the webhook secret was not exported: a new one, the channel off until an
            # admin re-enters its credentials and re-registers it
            row[column] = box.encrypt(random_secrets.token_urlsafe(32))
            row["is_active"] = False
        else:
            row[column] = None
    return row


async def import_tenant(
    session: AsyncSession, box: SecretBox, document: Any, *, version: int = VERSION
) -> uuid.UUID:
    """Restore an export of ``version`` (in the caller's transaction); returns the
    workspace id. A version 2 document comes in an archive with its files
    (:mod:`frontline.tenants.archive`), which checks them and passes ``version=2``."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Unprocessable(f"not a {FORMAT} file")
    if document.get("version") != version:
        found = document.get("version")
        if found == 2:
            raise Unprocessable("a version 2 backup is a zip archive: import the archive")
        raise Unprocessable(f"unsupported export version {found!r}")
    data = document.get("tables")
    if not isinstance(data, dict) or not data.get("tenants"):
        raise Unprocessable("the export holds no workspace")
    known = {t.name for t in _tables()}
    unknown = sorted(set(data) - known)
    if unknown:
        raise Unprocessable(f"unknown tables in the export: {', '.join(unknown)}")
    with_secrets = bool(document.get("with_secrets"))
    try:
        tenant_id = uuid.UUID(str(document.get("tenant_id")))
    except ValueError:
        raise Unprocessable("the export's workspace id is not a UUID") from None
    for row in data.get("attachments") or []:
        # a restored attachment must not point at another workspace's file
        pointed = row.get("storage_key") if isinstance(row, dict) else None
        if pointed is not None and not str(pointed).startswith(f"{tenant_id.hex}/"):
            raise Unprocessable(f"an attachment points at {pointed!r}, outside this workspace")
    tenants = Base.metadata.tables["tenants"]
    slug = data["tenants"][0].get("slug")
    clash = await session.execute(
        select(func.count())
        .select_from(tenants)
        .where((tenants.c.id == tenant_id) | (tenants.c.slug == slug))
    )
    if clash.scalar_one():
        raise Conflict("this workspace (its id or slug) already exists in the target database")
    for table in _tables():
        rows = data.get(table.name) or []
        if not rows:
            continue
        loaded = [_load(table, _import_secrets(table.name, r, box, with_secrets)) for r in rows]
        if table.name == "users":
            loaded = await _new_users(session, table, loaded)
        if loaded:
            await session.execute(table.insert(), loaded)
    await session.flush()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await _advance_sequences(session)
    return tenant_id


async def _new_users(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Users not in the target yet; one that is (same id) is reused, another account with
    the same e-mail is a conflict."""
    existing = {
        row.id: row.email
        for row in await session.execute(
            select(table.c.id, table.c.email).where(
                table.c.id.in_([r["id"] for r in rows])
                | table.c.email.in_([r["email"] for r in rows])
            )
        )
    }
    emails = set(existing.values())
    fresh = []
    for row in rows:
        if row["id"] in existing:
            continue
        if row["email"] in emails:
            raise Conflict(f"another account with the e-mail {row['email']} exists in the target")
        fresh.append(row)
    return fresh


async def _advance_sequences(session: AsyncSession) -> None:
    """Rows were inserted with their ids: move PostgreSQL's id sequences past them."""
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or _python_type(pk[0]) is not int:
            continue
        name, column = table.name, pk[0].name
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "  # noqa: S608
                f"GREATEST((SELECT COALESCE(MAX({column}), 0) FROM {name}), 1))"
            )
        )
