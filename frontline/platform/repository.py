"""Cross-tenant reads for the platform superadmin only (no tenant scope by design: these
are the platform's own numbers about each tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.models import (
    AiCall,
    Attachment,
    Conversation,
    KnowledgeDocument,
    Membership,
    Message,
    Tenant,
)


class PlatformRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tenants(self) -> list[Tenant]:
        return list(
            (await self.session.execute(select(Tenant).order_by(Tenant.created_at))).scalars()
        )

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def _per_tenant(self, stmt: Any) -> dict[uuid.UUID, Any]:
        return {row[0]: row[1] for row in await self.session.execute(stmt)}

    async def usage(self, month_start: datetime) -> dict[str, dict[uuid.UUID, Any]]:
        """Per tenant: conversations (all, this month), messages, LLM tokens, stored bytes
        (knowledge documents and attachments), members, documents."""
        c, m, a = Conversation, Message, AiCall
        return {
            "conversations": await self._per_tenant(
                select(c.tenant_id, func.count()).group_by(c.tenant_id)
            ),
            "conversations_this_month": await self._per_tenant(
                select(c.tenant_id, func.count())
                .where(c.created_at >= month_start)
                .group_by(c.tenant_id)
            ),
            "messages": await self._per_tenant(
                select(m.tenant_id, func.count()).group_by(m.tenant_id)
            ),
            "tokens": await self._per_tenant(
                select(a.tenant_id, func.sum(a.tokens_in + a.tokens_out)).group_by(a.tenant_id)
            ),
            "knowledge_bytes": await self._per_tenant(
                select(
                    KnowledgeDocument.tenant_id, func.sum(KnowledgeDocument.size_bytes)
                ).group_by(KnowledgeDocument.tenant_id)
            ),
            "documents": await self._per_tenant(
                select(KnowledgeDocument.tenant_id, func.count()).group_by(
                    KnowledgeDocument.tenant_id
                )
            ),
            "attachment_bytes": await self._per_tenant(
                select(Attachment.tenant_id, func.sum(Attachment.size)).group_by(
                    Attachment.tenant_id
                )
            ),
            "members": await self._per_tenant(
                select(Membership.tenant_id, func.count()).group_by(Membership.tenant_id)
            ),
        }
