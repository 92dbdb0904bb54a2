from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.errors import Conflict, NotFound, Unprocessable
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import CannedReply, Category, Tag
from frontline.tickets.repository import (
    CannedReplyRepository,
    CategoryRepository,
    ConversationTagRepository,
    TagRepository,
)


async def list_categories(session: AsyncSession, scope: TenantScope) -> list[Category]:
    return await CategoryRepository(session, scope).list()


async def get_category(
    session: AsyncSession, scope: TenantScope, category_id: uuid.UUID
) -> Category:
    category = await CategoryRepository(session, scope).get(category_id)
    if category is None:
        raise NotFound("category not found")
    return category


async def create_category(
    session: AsyncSession, scope: TenantScope, name: str, description: str
) -> Category:
    repo = CategoryRepository(session, scope)
    if await repo.by_name(name.strip()) is not None:
        raise Conflict(f"category {name!r} already exists")
    category = repo.add(Category(name=name.strip(), description=description))
    await session.flush()
    return category


async def update_category(
    session: AsyncSession,
    scope: TenantScope,
    category_id: uuid.UUID,
    name: str | None,
    description: str | None,
) -> Category:
    repo = CategoryRepository(session, scope)
    category = await get_category(session, scope, category_id)
    if name is not None and name.strip() != category.name:
        if await repo.by_name(name.strip()) is not None:
            raise Conflict(f"category {name!r} already exists")
        category.name = name.strip()
    if description is not None:
        category.description = description
    await session.flush()
    return category


async def delete_category(
    session: AsyncSession, scope: TenantScope, category_id: uuid.UUID
) -> None:
    category = await get_category(session, scope, category_id)
    await session.delete(category)
    await session.flush()


# Canned replies: operators read them (to insert into a reply), admins manage them.


def _clean(value: str, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise Unprocessable(f"the {what} is blank")
    return cleaned


async def list_canned(
    session: AsyncSession, scope: TenantScope, q: str | None = None
) -> list[CannedReply]:
    return await CannedReplyRepository(session, scope).list((q or "").strip() or None)


async def get_canned(session: AsyncSession, scope: TenantScope, reply_id: uuid.UUID) -> CannedReply:
    reply = await CannedReplyRepository(session, scope).get(reply_id)
    if reply is None:
        raise NotFound("canned reply not found")
    return reply


async def create_canned(
    session: AsyncSession, scope: TenantScope, title: str, text: str
) -> CannedReply:
    repo = CannedReplyRepository(session, scope)
    title = _clean(title, "title")
    if await repo.by_title(title) is not None:
        raise Conflict(f"a canned reply titled {title!r} already exists")
    reply = repo.add(CannedReply(title=title, text=_clean(text, "text")))
    await session.flush()
    return reply


async def update_canned(
    session: AsyncSession,
    scope: TenantScope,
    reply_id: uuid.UUID,
    title: str | None,
    text: str | None,
) -> CannedReply:
    repo = CannedReplyRepository(session, scope)
    reply = await get_canned(session, scope, reply_id)
    if title is not None and _clean(title, "title") != reply.title:
        if await repo.by_title(title.strip()) is not None:
            raise Conflict(f"a canned reply titled {title.strip()!r} already exists")
        reply.title = title.strip()
    if text is not None:
        reply.text = _clean(text, "text")
    reply.updated_at = utcnow()
    await session.flush()
    return reply


async def delete_canned(session: AsyncSession, scope: TenantScope, reply_id: uuid.UUID) -> None:
    await session.delete(await get_canned(session, scope, reply_id))
    await session.flush()
async def list_tags(session: AsyncSession, scope: TenantScope) -> list[Tag]:
    return await TagRepository(session, scope).list()


async def create_tag(session: AsyncSession, scope: TenantScope, name: str, color: str) -> Tag:
    repo = TagRepository(session, scope)
    name = name.strip()
    if not name:
        raise Unprocessable("tag name must not be blank")
    if await repo.by_name(name) is not None:
        raise Conflict(f"tag {name!r} already exists")
    tag = repo.add(Tag(name=name, color=color.lower()))
    await session.flush()
    return tag


async def delete_tag(session: AsyncSession, scope: TenantScope, tag_id: uuid.UUID) -> None:
    """Delete a tag; it disappears from every conversation (the link rows cascade)."""
    tag = await TagRepository(session, scope).get(tag_id)
    if tag is None:
        raise NotFound("tag not found")
    await session.delete(tag)
    await session.flush()


async def tags_of(
    session: AsyncSession, scope: TenantScope, conversation_ids: list[int]
) -> dict[int, list[Tag]]:
    return await ConversationTagRepository(session, scope).tags_of(conversation_ids)


async def set_conversation_tags(
    session: AsyncSession, scope: TenantScope, conversation_id: int, tag_ids: list[uuid.UUID]
) -> list[Tag]:
    """Replace a conversation's tags (the caller has checked the conversation is the
    tenant's). Every id must be one of the tenant's tags: another tenant's is unknown here."""
    wanted = list(dict.fromkeys(tag_ids))
    tags = await TagRepository(session, scope).by_ids(wanted)
    missing = set(wanted) - {t.id for t in tags}
    if missing:
        raise Unprocessable(f"unknown tag: {sorted(str(m) for m in missing)[0]}")
    await ConversationTagRepository(session, scope).replace(conversation_id, wanted)
    await session.flush()
    return tags
