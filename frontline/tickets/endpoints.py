from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from frontline.auth.deps import Admin, Operator
from frontline.deps import Session
from frontline.tickets import service
from frontline.tickets.schemas import (
    CannedReplyIn,
    CannedReplyOut,
    CannedReplyPatch,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    TagIn,
    TagOut,
)

router = APIRouter(tags=["categories"])


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(subject: Operator, session: Session) -> list[CategoryOut]:
    return [
        CategoryOut.model_validate(c) for c in await service.list_categories(session, subject.scope)
    ]


@router.post("/categories", response_model=CategoryOut, status_code=status.HTTP_201_CREATED)
async def create_category(body: CategoryIn, subject: Admin, session: Session) -> CategoryOut:
    return CategoryOut.model_validate(
        await service.create_category(session, subject.scope, body.name, body.description)
    )


@router.get("/categories/{category_id}", response_model=CategoryOut)
async def get_category(category_id: uuid.UUID, subject: Operator, session: Session) -> CategoryOut:
    return CategoryOut.model_validate(
        await service.get_category(session, subject.scope, category_id)
    )


@router.patch("/categories/{category_id}", response_model=CategoryOut)
async def update_category(
    category_id: uuid.UUID, body: CategoryPatch, subject: Admin, session: Session
) -> CategoryOut:
    return CategoryOut.model_validate(
        await service.update_category(
            session, subject.scope, category_id, body.name, body.description
        )
    )


@router.delete("/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(category_id: uuid.UUID, subject: Admin, session: Session) -> None:
    await service.delete_category(session, subject.scope, category_id)


@router.get("/canned-replies", response_model=list[CannedReplyOut], tags=["canned replies"])
async def list_canned(
    subject: Operator,
    session: Session,
    q: Annotated[str | None, Query(max_length=100, description="in the title or text")] = None,
) -> list[CannedReplyOut]:
    """The tenant's canned replies by title (operators insert them into a reply)."""
    return [
        CannedReplyOut.model_validate(r)
        for r in await service.list_canned(session, subject.scope, q)
    ]


@router.post(
    "/canned-replies",
    response_model=CannedReplyOut,
    status_code=status.HTTP_201_CREATED,
    tags=["canned replies"],
)
async def create_canned(body: CannedReplyIn, subject: Admin, session: Session) -> CannedReplyOut:
    return CannedReplyOut.model_validate(
        await service.create_canned(session, subject.scope, body.title, body.text)
    )


@router.patch(
    "/canned-replies/{canned_reply_id}", response_model=CannedReplyOut, tags=["canned replies"]
)
async def update_canned(
    canned_reply_id: uuid.UUID, body: CannedReplyPatch, subject: Admin, session: Session
) -> CannedReplyOut:
    return CannedReplyOut.model_validate(
        await service.update_canned(session, subject.scope, canned_reply_id, body.title, body.text)
    )


@router.delete(
    "/canned-replies/{canned_reply_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["canned replies"],
)
async def delete_canned(canned_reply_id: uuid.UUID, subject: Admin, session: Session) -> None:
    await service.delete_canned(session, subject.scope, canned_reply_id)
@router.get("/tags", response_model=list[TagOut], tags=["tags"])
async def list_tags(subject: Operator, session: Session) -> list[TagOut]:
    return [TagOut.model_validate(t) for t in await service.list_tags(session, subject.scope)]


@router.post("/tags", response_model=TagOut, status_code=status.HTTP_201_CREATED, tags=["tags"])
async def create_tag(body: TagIn, subject: Admin, session: Session) -> TagOut:
    return TagOut.model_validate(
        await service.create_tag(session, subject.scope, body.name, body.color)
    )


@router.delete("/tags/{tag_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["tags"])
async def delete_tag(tag_id: uuid.UUID, subject: Admin, session: Session) -> None:
    await service.delete_tag(session, subject.scope, tag_id)
