from __future__ import annotations

from sqlalchemy import or_

from frontline.kit.repository import TenantRepository
from frontline.models import AuditEntry


class AuditRepository(TenantRepository[AuditEntry]):
    model = AuditEntry

    async def page(
        self, *, action: str | None, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        stmt = self.select()
        if action:
            stmt = stmt.where(
                or_(AuditEntry.action == action, AuditEntry.action.startswith(f"{action}."))
            )
        if before_id is not None:
            stmt = stmt.where(AuditEntry.id < before_id)
        stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
