from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from frontline.audit import service
from frontline.audit.schemas import AuditOut, AuditPage
from frontline.auth.deps import Admin
from frontline.deps import Session
from frontline.kit.params import BIGINT_MAX

router = APIRouter(tags=["audit"])


@router.get("/audit-log", response_model=AuditPage)
async def audit_log(
    subject: Admin,
    session: Session,
    action: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z_.\-]+$")] = None,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Newest first; ``action`` filters by an action or its prefix (``members``);
    ``before`` pages on (the previous page's ``next_before``)."""
    rows, next_before = await service.page(
        session, subject.scope, action=action, before_id=before, limit=limit
    )
    return AuditPage(items=[AuditOut.model_validate(r) for r in rows], next_before=next_before)
