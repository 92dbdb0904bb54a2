"""Tenant scoping in one place.

Every repository of tenant data derives from :class:`TenantRepository`. It is constructed
with a :class:`TenantScope` (taken from the authenticated subject) and every query it builds
starts from :meth:`TenantRepository.select`, which adds ``tenant_id = scope`` itself. There
is no public way to query tenant data without a scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The tenant a piece of code acts for."""

    tenant_id: uuid.UUID


class TenantRepository(Generic[M]):
    """Base repository for a tenant-owned model with a ``tenant_id`` column."""

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    def select(self, *entities: Any) -> Select[Any]:
        """``SELECT`` of this repository's model (or the given entities), tenant-filtered."""
        stmt = select(*(entities or (self.model,)))
        return stmt.where(self.model.tenant_id == self.scope.tenant_id)

    async def get(self, id_: Any) -> M | None:
        stmt = self.select().where(self.model.id == id_)
        result = await self.session.execute(stmt)
        found: M | None = result.scalar_one_or_none()
        return found

    async def one_or_none(self, stmt: Select[Any]) -> M | None:
        """Run a statement built from :meth:`select` that yields at most one entity."""
        found: M | None = (await self.session.execute(stmt)).scalars().first()
        return found

    async def insert_rows(self, rows: list[dict[str, Any]]) -> None:
        """Insert rows of this repository's table in one Core statement (no entities, no
        ids returned: for hot paths that never read them back). Each row gets the scope's
        tenant; a row naming another tenant is refused."""
        if not rows:
            return
        values = []
        for row in rows:
            if row.get("tenant_id", self.scope.tenant_id) != self.scope.tenant_id:
                raise ValueError("row belongs to another tenant")
            values.append({**row, "tenant_id": self.scope.tenant_id})
        table = self.model.__table__
        await self.session.execute(insert(table), values)

    def add(self, obj: M) -> M:
        if getattr(obj, "tenant_id", None) is None:
            obj.tenant_id = self.scope.tenant_id  # type: ignore[attr-defined]
        elif obj.tenant_id != self.scope.tenant_id:  # type: ignore[attr-defined]
            raise ValueError("object belongs to another tenant")
        self.session.add(obj)
        return obj
