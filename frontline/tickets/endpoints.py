from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from frontline.auth.deps import Admin, Operator
from frontline.deps import Session
from frontline.tickets import service
from frontline.tickets.schemas import CategoryIn, CategoryOut, CategoryPatch, TagIn, TagOut

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
