"""Analytics conversation facts, kept by a trigger on messages and backfilled here

Revision ID: 0016_analytics_facts
Revises: 0013_ai_out_of_scope
Create Date: 2026-12-07 03:30:00

The first-response reports used to aggregate every message of the range's conversations
(1M messages at 100k conversations: seconds). ``analytics_conversation_facts`` holds,
per conversation, the earliest customer message, the earliest visible AI message and the
earliest visible operator message. An ``AFTER INSERT`` trigger on ``messages`` keeps it in
the inserting transaction (so it is never stale and no insert path can forget it); it
writes only when a fact moves earlier, i.e. a conversation's first message of each kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0016_analytics_facts"
down_revision: str | None = "0013_ai_out_of_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# which messages count: any customer message; AI and operator messages the customer saw
COUNTS = (
    "NEW.sender_type = 'contact' OR (NEW.sender_type IN ('ai', 'operator') AND NOT NEW.is_internal)"
)

# the row for the new message's conversation; a stored fact is replaced only by an earlier
# one (``{f}`` is the stored row, ``excluded`` the new message's facts; SQLite takes no
# alias for the table inside a trigger)
UPSERT = """
INSERT INTO analytics_conversation_facts{alias}
    (conversation_id, tenant_id, contact_at, ai_at, operator_at)
VALUES (NEW.conversation_id, NEW.tenant_id,
        CASE WHEN NEW.sender_type = 'contact' THEN NEW.created_at END,
        CASE WHEN NEW.sender_type = 'ai' THEN NEW.created_at END,
        CASE WHEN NEW.sender_type = 'operator' THEN NEW.created_at END)
ON CONFLICT (conversation_id) DO UPDATE SET
    contact_at = CASE WHEN {f}.contact_at IS NULL OR excluded.contact_at < {f}.contact_at
                      THEN coalesce(excluded.contact_at, {f}.contact_at) ELSE {f}.contact_at END,
    ai_at = CASE WHEN {f}.ai_at IS NULL OR excluded.ai_at < {f}.ai_at
                 THEN coalesce(excluded.ai_at, {f}.ai_at) ELSE {f}.ai_at END,
    operator_at = CASE WHEN {f}.operator_at IS NULL OR excluded.operator_at < {f}.operator_at
                       THEN coalesce(excluded.operator_at, {f}.operator_at) ELSE {f}.operator_at END
WHERE (excluded.contact_at IS NOT NULL
       AND ({f}.contact_at IS NULL OR excluded.contact_at < {f}.contact_at))
   OR (excluded.ai_at IS NOT NULL AND ({f}.ai_at IS NULL OR excluded.ai_at < {f}.ai_at))
   OR (excluded.operator_at IS NOT NULL
       AND ({f}.operator_at IS NULL OR excluded.operator_at < {f}.operator_at))
"""

SQLITE_TRIGGER = f"""
CREATE TRIGGER tr_messages_analytics_facts AFTER INSERT ON messages
WHEN {COUNTS}
BEGIN {UPSERT.format(alias="", f="analytics_conversation_facts")}; END
"""

# PostgreSQL: the cheap check first - most messages are not their conversation's first of
# their kind, and then nothing is written or locked
PG_FUNCTION = f"""
CREATE FUNCTION analytics_message_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM analytics_conversation_facts s
   WHERE s.conversation_id = NEW.conversation_id
     AND CASE NEW.sender_type WHEN 'contact' THEN s.contact_at
                              WHEN 'ai' THEN s.ai_at
                              ELSE s.operator_at END <= NEW.created_at;
  IF FOUND THEN RETURN NULL; END IF;
  {UPSERT.format(alias=" AS f", f="f")};
  RETURN NULL;
END $$
"""

PG_TRIGGER = f"""
CREATE TRIGGER tr_messages_analytics_facts AFTER INSERT ON messages
FOR EACH ROW WHEN ({COUNTS}) EXECUTE FUNCTION analytics_message_facts()
"""

BACKFILL = """
INSERT INTO analytics_conversation_facts
    (conversation_id, tenant_id, contact_at, ai_at, operator_at)
SELECT c.id, c.tenant_id,
       min(CASE WHEN m.sender_type = 'contact' THEN m.created_at END),
       min(CASE WHEN m.sender_type = 'ai' AND NOT m.is_internal THEN m.created_at END),
       min(CASE WHEN m.sender_type = 'operator' AND NOT m.is_internal THEN m.created_at END)
FROM conversations c JOIN messages m ON m.conversation_id = c.id
WHERE m.sender_type = 'contact' OR (m.sender_type IN ('ai', 'operator') AND NOT m.is_internal)
GROUP BY c.id, c.tenant_id
"""


def upgrade() -> None:
    op.create_table(
        "analytics_conversation_facts",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("contact_at", frontline.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ai_at", frontline.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("operator_at", frontline.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_analytics_conversation_facts_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_analytics_conversation_facts")),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS tr_messages_analytics_facts ON messages"
        if op.get_context().dialect.name != "sqlite"
        else "DROP TRIGGER IF EXISTS tr_messages_analytics_facts"
    )
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS analytics_message_facts()")
    op.drop_table("analytics_conversation_facts")
