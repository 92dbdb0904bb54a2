from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import BindParameter

from frontline.aisettings.service import DEFAULT_HISTORY_SIZE, RUNTIME_COLUMNS
from frontline.contacts.schemas import ContactRef
from frontline.conversations.schemas import ConversationRef
from frontline.kit.db import Unit, as_unit
from frontline.kit.repository import TenantRepository, TenantScope
from frontline.models import (
    AiSettings,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationTag,
    KnowledgeState,
    Message,
    SenderType,
    Tenant,
    not_held,
)


@dataclass(frozen=True)
class ConversationFilter:
    status: list[str] | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    priority: list[str] | None = None
    category_id: uuid.UUID | None = None
    channel_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    tag_id: uuid.UUID | None = None
    q: str | None = None


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class InboundContext:
    """What the inbound path needs to know, read in one round trip."""

    duplicate: tuple[int, int] | None  # (message id, conversation id) of a redelivery
    contact: ContactRef | None
    latest: ConversationRef | None  # the contact's newest conversation on the channel
    tenant_ai_enabled: bool = True  # the tenant's AI switch (on when never configured)
    moderation: Any = None  # the tenant's stored moderation settings (None: the defaults)
    # the known contact's inbound messages since the ``history_since`` asked for, as
    # ``(id, created_at, text)`` in no order (moderation's flood and repeat history; a
    # contact seen for the first time has none)
    recent: list[tuple[int, datetime, str]] | None = None


def _history_rows(value: Any) -> list[tuple[int, datetime, str]]:
    """The JSON array of ``[id, created_at, text]`` the context read aggregates (SQLite
    writes the stored ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, PostgreSQL an ISO timestamp
    with its offset)."""
    rows: list[tuple[int, datetime, str]] = []
    for message_id, at, body in value or ():
        created = datetime.fromisoformat(at)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        rows.append((int(message_id), created, body or ""))
    return rows


_NO_HISTORY = datetime(9999, 1, 1, tzinfo=UTC)  # no message is this new


@functools.cache
def _inbound_context_statements(postgres: bool) -> tuple[Select[Any], Select[Any]]:
    """Built once per dialect from the tables (plain Core: no ORM entities to process per
    row); constructing this statement costs more than running it."""
    messages = Message.__table__.c
    contacts = Contact.__table__.c
    identities = ContactIdentity.__table__.c
    conversations = Conversation.__table__
    inner = conversations.alias("latest")
    settings = AiSettings.__table__.c
    tenant_ai = func.coalesce(
        select(settings.ai_enabled).where(settings.tenant_id == bindparam("tid")).scalar_subquery(),
        True,
    )
    tenant_moderation = (
        select(settings.moderation).where(settings.tenant_id == bindparam("tid")).scalar_subquery()
    )
    tid: BindParameter[uuid.UUID] = bindparam("tid")
    channel_id: BindParameter[uuid.UUID] = bindparam("channel_id")
    # moderation's history, folded in (one statement less inside the write transaction):
    # the contact's inbound messages since ``history_since`` in any of its conversations,
    # found by the conversations' contact index and the messages' conversation index (no
    # ORDER BY / LIMIT: see ``recent_inbound``), aggregated into one JSON value
    recent = Message.__table__.alias("recent")
    theirs = Conversation.__table__.alias("theirs")
    if postgres:
        aggregate = func.json_agg(
            func.json_build_array(recent.c.id, recent.c.created_at, recent.c.text), type_=JSON
        )
    else:
        aggregate = func.json_group_array(
            func.json_array(recent.c.id, recent.c.created_at, recent.c.text), type_=JSON
        )
    their_ids = (
        select(theirs.c.id).where(theirs.c.contact_id == contacts.id).correlate(Contact.__table__)
    )
    # PostgreSQL: ``= ANY(ARRAY(...))`` makes the contact's conversation ids one value, read
    # by the messages' conversation index (EXPLAIN ANALYZE at 100k messages: 0.11-0.18 ms
    # against 0.19-0.30 with ``IN (...)``, for which a table bulk-loaded since its last
    # ANALYZE was once planned as a scan of all the tenant's messages, 10 ms)
    in_theirs = (
        recent.c.conversation_id == any_(func.array(their_ids.scalar_subquery()))
        if postgres
        else recent.c.conversation_id.in_(their_ids)
    )
    history = (
        select(aggregate)
        .where(
            recent.c.tenant_id == tid,
            in_theirs,
            recent.c.sender_type == SenderType.CONTACT.value,
            recent.c.created_at >= bindparam("history_since"),
        )
        .correlate(Contact.__table__)
        .scalar_subquery()
    )
    dup = (
        select(messages.id, messages.conversation_id)
        .where(
            messages.tenant_id == tid,
            messages.channel_id == channel_id,
            messages.external_id == bindparam("message_external_id"),
        )
        .limit(1)
        .subquery()
    )
    latest_id = (
        select(func.max(inner.c.id))
        .where(
            inner.c.tenant_id == tid,
            inner.c.contact_id == contacts.id,
            inner.c.channel_id == channel_id,
        )
        .correlate(Contact.__table__)
        .scalar_subquery()
    )
    with_contact = (
        select(
            dup.c.id,
            dup.c.conversation_id,
            contacts.id,
            contacts.name,
            contacts.email,
            contacts.phone,
            contacts.ai_enabled,
            conversations.c.id,
            conversations.c.status,
            tenant_ai,
            tenant_moderation,
            history,
        )
        .select_from(ContactIdentity.__table__)
        .join(Contact.__table__, contacts.id == identities.contact_id)
        .outerjoin(conversations, conversations.c.id == latest_id)
        .outerjoin(dup, dup.c.id.is_not(None))
        .where(
            identities.tenant_id == tid,
            identities.channel_id == channel_id,
            identities.external_id == bindparam("contact_external_id"),
        )
    )
    dup_id = select(dup.c.id).scalar_subquery()
    dup_conversation = select(dup.c.conversation_id).scalar_subquery()
    return with_contact, select(dup_id, dup_conversation, tenant_ai, tenant_moderation)


async def read_inbound_context(
    unit: Unit,
    scope: TenantScope,
    channel_id: uuid.UUID,
    message_external_id: str,
    contact_external_id: str,
    history_since: datetime | None = None,
) -> InboundContext:
    """The hot path of every inbound message: is it a redelivery, who sent it, and which
    conversation is theirs, is the tenant's AI on, the tenant's moderation settings and
    the contact's inbound messages since ``history_since`` - one query instead of five
    (this read model spans the identity, contact, message and AI settings tables on
    purpose; writes stay in their domains). ``history_since`` None: no history. Core
    statements only, so it runs on a :class:`~frontline.kit.db.CoreTransaction` as well as
    on an ORM session."""
    params = {
        "tid": scope.tenant_id,
        "channel_id": channel_id,
        "message_external_id": message_external_id,
        "contact_external_id": contact_external_id,
        "history_since": history_since or _NO_HISTORY,
    }
    bind = unit.bind
    postgres = bind is not None and bind.dialect.name == "postgresql"
    with_contact, duplicate_only = _inbound_context_statements(postgres)
    row: Any = (await unit.execute(with_contact, params)).first()
    if row is not None:
        duplicate = (int(row[0]), int(row[1])) if row[0] is not None else None
        contact = ContactRef(row[2], row[3], row[4], row[5], bool(row[6]))
        latest = ConversationRef(int(row[7]), row[8]) if row[7] is not None else None
        recent = _history_rows(row[11])
        return InboundContext(duplicate, contact, latest, bool(row[9]), row[10], recent)
    # unknown sender: only a redelivery under another sender id could be a duplicate
    found: Any = (await unit.execute(duplicate_only, params)).one()
    duplicate = (int(found[0]), int(found[1])) if found[0] is not None else None
    return InboundContext(duplicate, None, None, bool(found[2]), found[3])


@dataclass(frozen=True)
class TurnContext:
    """What an AI turn reads before calling the model, in one round trip. ``contact_found``
    / ``tenant_found`` are False when those rows are missing; ``settings`` holds the AI
    settings columns (:data:`RUNTIME_COLUMNS`), ``None`` when never set. ``recent`` is
    ``(id, sender_type, text)`` of the conversation's newest non-internal messages that
    moderation did not hold, newest first: at most ``recent_limit`` (the tenant's history size plus
    :data:`TURN_RECENT_EXTRA`), all of them when fewer."""

    conversation_id: int
    status: str
    channel_id: uuid.UUID
    contact_id: uuid.UUID
    contact_found: bool
    contact_ai_enabled: bool
    tenant_found: bool
    tenant_name: str
    tenant_locale: str
    settings: dict[str, Any] | None
    recent: list[tuple[int, str, str]]
    recent_limit: int
    # the tenant's knowledge base row (``kb_state``): ``(version, removals, epoch)`` (zeros
    # before any), its embedding model and that model's encrypted key
    knowledge_version: tuple[int, int, int]
    knowledge_embedding: dict[str, Any] | None
    knowledge_embedding_secret: str | None
    # the conversation's channel facts (``Conversation.meta``)
    meta: dict[str, Any] | None = None
    # an identified contact (the host application's user id) and their typed attributes
    contact_name: str | None = None
    contact_user_id: str | None = None
    contact_attributes: dict[str, Any] | None = None


# messages a turn reads beyond its history size (the message itself, and room for the
# customer's last few messages the language guess looks at)
TURN_RECENT_EXTRA = 8


@functools.cache
def _turn_context_statement() -> Select[Any]:
    conversations = Conversation.__table__.c
    contacts = Contact.__table__.c
    tenants = Tenant.__table__.c
    settings = AiSettings.__table__.c
    knowledge = KnowledgeState.__table__.c
    tid: BindParameter[uuid.UUID] = bindparam("tid")
    cid: BindParameter[int] = bindparam("cid")
    sizes = AiSettings.__table__.alias("sizes")
    limit = (
        func.coalesce(
            select(sizes.c.history_size).where(sizes.c.tenant_id == tid).scalar_subquery(),
            DEFAULT_HISTORY_SIZE,
        )
        + TURN_RECENT_EXTRA
    )
    messages = Message.__table__.c
    recent = (
        select(messages.id, messages.sender_type, messages.text)
        .where(
            messages.tenant_id == tid,
            messages.conversation_id == cid,
            messages.is_internal.is_(False),
            not_held(messages),  # a held message is not for a model to read
        )
        .order_by(messages.id.desc())
        .limit(limit)
        .subquery("recent")
    )
    setting_columns = [
        (cast(settings.provider_chain, Text) if name == "provider_chain" else settings[name]).label(
            f"s_{name}"
        )
        for name in RUNTIME_COLUMNS
    ]
    return (
        select(
            conversations.id,
            conversations.status,
            conversations.channel_id,
            conversations.contact_id,
            conversations.meta.label("conversation_meta"),
            contacts.id.label("contact_found"),
            contacts.ai_enabled.label("contact_ai_enabled"),
            contacts.name.label("contact_name"),
            contacts.user_id.label("contact_user_id"),
            contacts.attributes.label("contact_attributes"),
            tenants.id.label("tenant_found"),
            tenants.name.label("tenant_name"),
            tenants.locale.label("tenant_locale"),
            settings.tenant_id.label("settings_found"),
            *setting_columns,
            knowledge.version.label("kb_version"),
            knowledge.removals.label("kb_removals"),
            knowledge.epoch.label("kb_epoch"),
            knowledge.embedding.label("kb_embedding"),
            knowledge.embedding_secret.label("kb_embedding_secret"),
            recent.c.id.label("m_id"),
            recent.c.sender_type.label("m_sender_type"),
            recent.c.text.label("m_text"),
        )
        .select_from(Conversation.__table__)
        .outerjoin(
            Contact.__table__,
            and_(contacts.id == conversations.contact_id, contacts.tenant_id == tid),
        )
        .outerjoin(Tenant.__table__, tenants.id == tid)
        .outerjoin(AiSettings.__table__, settings.tenant_id == tid)
        .outerjoin(KnowledgeState.__table__, knowledge.tenant_id == tid)
        .outerjoin(recent, true())
        .where(conversations.tenant_id == tid, conversations.id == cid)
        .order_by(recent.c.id.desc())
    )


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    async def turn_context(self, conversation_id: int) -> TurnContext | None:
        """The AI turn's read model: the conversation's state, its contact's AI switch,
        the tenant's name and locale, its AI settings, its knowledge base's state and the
        conversation's recent messages - one query instead of seven (it spans those tables
        on purpose; writes stay in their domains). ``None`` when the conversation does not
        exist."""
        params = {"tid": self.scope.tenant_id, "cid": conversation_id}
        rows = (await self.session.execute(_turn_context_statement(), params)).all()
        if not rows:
            return None
        m = rows[0]._mapping
        settings = (
            {name: m[f"s_{name}"] for name in RUNTIME_COLUMNS}
            if m["settings_found"] is not None
            else None
        )
        history_size = settings["history_size"] if settings else DEFAULT_HISTORY_SIZE
        return TurnContext(
            conversation_id=int(m["id"]),
            status=m["status"],
            channel_id=m["channel_id"],
            contact_id=m["contact_id"],
            contact_found=m["contact_found"] is not None,
            contact_ai_enabled=bool(m["contact_ai_enabled"]),
            tenant_found=m["tenant_found"] is not None,
            tenant_name=m["tenant_name"] or "",
            tenant_locale=m["tenant_locale"] or "",
            settings=settings,
            recent=[
                (int(r.m_id), str(r.m_sender_type), str(r.m_text))
                for r in rows
                if r.m_id is not None
            ],
            recent_limit=history_size + TURN_RECENT_EXTRA,
            knowledge_version=(
                int(m["kb_version"] or 0),
                int(m["kb_removals"] or 0),
                int(m["kb_epoch"] or 0),
            ),
            knowledge_embedding=m["kb_embedding"],
            knowledge_embedding_secret=m["kb_embedding_secret"],
            meta=m["conversation_meta"],
            contact_name=m["contact_name"],
            contact_user_id=m["contact_user_id"],
            contact_attributes=m["contact_attributes"],
        )

    async def inbound_context(
        self,
        channel_id: uuid.UUID,
        message_external_id: str,
        contact_external_id: str,
        history_since: datetime | None = None,
    ) -> InboundContext:
        """See :func:`read_inbound_context` (on this repository's session)."""
        return await read_inbound_context(
            as_unit(self.session),
            self.scope,
            channel_id,
            message_external_id,
            contact_external_id,
            history_since,
        )

    async def recent_inbound(
        self, contact_id: uuid.UUID, since: datetime, limit: int
    ) -> list[tuple[datetime, str]]:
        """``(created_at, text)`` of the contact's messages since ``since`` in any of its
        conversations, newest first, at most ``limit`` (moderation's flood and repeat
        history; a read model over the messages table like :meth:`inbound_context`)."""
        tid = self.scope.tenant_id
        # the contact's conversations by their contact index (the tenant is checked on the
        # messages: a contact id never crosses tenants, and this keeps SQLite off the
        # tenant-wide conversation index)
        theirs = select(Conversation.id).where(Conversation.contact_id == contact_id)
        # no ORDER BY id / LIMIT here: with them both planners may walk the whole
        # messages table backwards by its primary key looking for this contact's few rows
        # (measured: ~40% of the inbound path's throughput on SQLite); the rows of one
        # contact's last minutes are few (the inbound rate limit bounds them), so they are
        # read through the conversation index and ordered here
        stmt = select(Message.id, Message.created_at, Message.text).where(
            Message.tenant_id == tid,
            Message.conversation_id.in_(theirs.scalar_subquery()),
            Message.sender_type == SenderType.CONTACT.value,
            Message.created_at >= since,
        )
        rows = sorted(await self.session.execute(stmt), key=lambda row: row[0], reverse=True)
        return [(row[1], row[2] or "") for row in rows[:limit]]

    async def get_for_update(self, conversation_id: int) -> Conversation | None:
        stmt = self.select().where(Conversation.id == conversation_id).with_for_update()
        return await self.one_or_none(stmt)

    async def count_since(self, since: datetime) -> int:
        stmt = self.select(func.count()).select_from(Conversation)
        stmt = stmt.where(Conversation.created_at >= since)
        return int((await self.session.execute(stmt)).scalar_one())

    async def last_messages(
        self, conversation_ids: list[int], max_chars: int
    ) -> dict[int, tuple[str, str, datetime]]:
        """The newest non-internal message of each conversation: ``id -> (sender_type,
        text shortened to max_chars, created_at)``; one statement for a page."""
        if not conversation_ids:
            return {}
        newest = (
            select(func.max(Message.id))
            .where(
                Message.tenant_id == self.scope.tenant_id,
                Message.conversation_id.in_(conversation_ids),
                Message.is_internal.is_(False),
            )
            .group_by(Message.conversation_id)
        )
        rows = await self.session.execute(
            select(
                Message.conversation_id,
                Message.sender_type,
                func.substr(Message.text, 1, max_chars),
                Message.created_at,
            ).where(Message.tenant_id == self.scope.tenant_id, Message.id.in_(newest))
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    async def search(
        self,
        flt: ConversationFilter,
        *,
        limit: int,
        after: tuple[datetime, int] | None = None,
    ) -> list[Conversation]:
        """Newest activity first; keyset pagination on ``(last_activity_at, id)``."""
        stmt = self.select()
        if flt.status:
            stmt = stmt.where(Conversation.status.in_(flt.status))
        if flt.assignee_id is not None:
            stmt = stmt.where(Conversation.assignee_id == flt.assignee_id)
        if flt.unassigned:
            stmt = stmt.where(Conversation.assignee_id.is_(None))
        if flt.priority:
            stmt = stmt.where(Conversation.priority.in_(flt.priority))
        if flt.category_id is not None:
            stmt = stmt.where(Conversation.category_id == flt.category_id)
        if flt.channel_id is not None:
            stmt = stmt.where(Conversation.channel_id == flt.channel_id)
        if flt.tag_id is not None:
            stmt = stmt.where(
                exists(
                    select(ConversationTag.tag_id).where(
                        ConversationTag.conversation_id == Conversation.id,
                        ConversationTag.tenant_id == self.scope.tenant_id,
                        ConversationTag.tag_id == flt.tag_id,
                    )
                )
            )
        if flt.contact_id is not None:
            stmt = stmt.where(Conversation.contact_id == flt.contact_id)
        if flt.q:
            pattern = _like_pattern(flt.q)
            in_messages = exists(
                select(Message.id).where(
                    Message.conversation_id == Conversation.id,
                    Message.tenant_id == self.scope.tenant_id,
                    Message.text.ilike(pattern, escape="\\"),
                )
            )
            in_contact = exists(
                select(Contact.id).where(
                    Contact.id == Conversation.contact_id,
                    Contact.tenant_id == self.scope.tenant_id,
                    or_(
                        Contact.name.ilike(pattern, escape="\\"),
                        Contact.email.ilike(pattern, escape="\\"),
                        Contact.phone.ilike(pattern, escape="\\"),
                    ),
                )
            )
            stmt = stmt.where(
                or_(Conversation.subject.ilike(pattern, escape="\\"), in_contact, in_messages)
            )
        if after is not None:
            ts, last_id = after
            stmt = stmt.where(
                or_(
                    Conversation.last_activity_at < ts,
                    and_(Conversation.last_activity_at == ts, Conversation.id < last_id),
                )
            )
        stmt = stmt.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(
            limit
        )
        return list((await self.session.execute(stmt)).scalars())

    async def move_contact(self, source: uuid.UUID, target: uuid.UUID) -> int:
        """Give ``source``'s conversations to ``target`` (a contact merge); how many."""
        result = await self.session.execute(
            update(Conversation)
            .where(
                Conversation.tenant_id == self.scope.tenant_id, Conversation.contact_id == source
            )
            .values(contact_id=target)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def for_contact(
        self,
        contact_id: uuid.UUID,
        *,
        channel_id: uuid.UUID | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[Conversation]:
        """The contact's conversations, newest first (``before``: ids below it)."""
        stmt = self.select().where(Conversation.contact_id == contact_id)
        if channel_id is not None:
            stmt = stmt.where(Conversation.channel_id == channel_id)
        if before is not None:
            stmt = stmt.where(Conversation.id < before)
        stmt = stmt.order_by(Conversation.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
