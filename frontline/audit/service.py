"""Recording and reading audit entries. ``record`` is called by the endpoints that change
a workspace (in the request's transaction: an entry exists exactly when the change was
committed). Values that are secrets are never passed in ``data``."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.audit.repository import AuditRepository
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import AuditEntry


class Actor(Protocol):
    @property
    def user_id(self) -> uuid.UUID | None: ...

    @property
    def api_key_id(self) -> uuid.UUID | None: ...

    @property
    def is_superadmin(self) -> bool: ...


def _actor_label(actor: Actor) -> str:
    if actor.api_key_id is not None:
        return f"api-key:{actor.api_key_id}"
    if actor.is_superadmin:
        return f"superadmin:{actor.user_id}"
    return f"user:{actor.user_id}"


async def record(
    session: AsyncSession,
    scope: TenantScope,
    actor: Actor,
    action: str,
    target: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    AuditRepository(session, scope).add(
        AuditEntry(
            actor_id=actor.user_id,
            actor=_actor_label(actor),
            action=action,
            target=target[:300],
            data=dict(data or {}),
            created_at=utcnow(),
        )
    )
    await session.flush()


async def record_system(
    session: AsyncSession,
    scope: TenantScope,
    actor: str,
    action: str,
    target: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """An entry made by the platform itself, not by a signed-in user (``actor`` names the
    mechanism, e.g. ``system:login-throttle``)."""
    AuditRepository(session, scope).add(
        AuditEntry(
            actor_id=None,
            actor=actor[:320],
            action=action,
            target=target[:300],
            data=dict(data or {}),
            created_at=utcnow(),
        )
    )
    await session.flush()


async def page(
    session: AsyncSession,
    scope: TenantScope,
    *,
    action: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[AuditEntry], int | None]:
    rows = await AuditRepository(session, scope).page(
        action=action, before_id=before_id, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
