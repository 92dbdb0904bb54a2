"""Analytics roll-ups: one row per conversation and hourly counts, kept by triggers

Revision ID: 0022_an365_analytics_rollups
Revises: 0021_channel_pushes_replies
Create Date: 2026-12-07 11:30:00

Over a year (100k conversations) the summary, timeline and volume reports read every
conversation of the range joined to its facts. Two tables replace that:

- ``analytics_conversations``: per conversation exactly what the reports need - its tenant,
  channel and start, the counted flags (resolved; resolved by the AI alone, strict;
  handed off), the CSAT rating and the three durations (seconds to the AI's first reply, to
  an operator's first reply after the handoff, to resolution), and for a conversation
  handed off for lack of a confident answer its customer's first message, normalized (the
  unanswered-questions report). A narrow row, so the exact percentiles read an index-only
  range instead of the wide conversations.
- ``analytics_hourly``: per tenant, UTC day, UTC hour and channel the sums of those
  counts; the counting reports read at most 24 rows a day.

A conversation's row is recomputed from ``conversations`` and
``analytics_conversation_facts`` (one statement, :data:`REFRESH`) whenever either changes
in a counted column - by triggers, in the writing transaction, so no write path can forget
it - and a trigger on ``analytics_conversations`` moves the difference into the hourly
sums. Both are backfilled here. A partial index on the handed-off conversations serves the
handoff-reasons report.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0022_an365_analytics_rollups"
down_revision: str | None = "0021_channel_pushes_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# a CSAT rating below this is negative (frontline.analytics.repository.NEGATIVE_CSAT_BELOW)
NEGATIVE_CSAT_BELOW = 3
# the handoff reason of "no confident answer" (frontline.conversations.reasons.PREFIXES):
# such conversations keep their customer's first message, normalized, as ``question``
NO_ANSWER_PREFIX = "no confident answer"

SECONDS = {
    "sqlite": "((julianday({later}) - julianday({earlier})) * 86400.0)",
    "postgresql": "CAST(EXTRACT(epoch FROM {later} - {earlier}) AS FLOAT)",
}


# every column of a conversation's analytics row, from the conversation ``c`` and its facts
# ``f`` - the same expressions as the reports' raw query (``AnalyticsRepository._joined``)
SELECT = """
SELECT c.id, c.tenant_id, c.channel_id, c.created_at,
       CASE WHEN c.resolved_at IS NOT NULL THEN 1 ELSE 0 END,
       CASE WHEN c.status = 'resolved' AND c.handed_off_at IS NULL
                 AND c.reopened_soon = false
                 AND (c.csat_rating IS NULL OR c.csat_rating >= {negative_below})
                 AND f.operator_at IS NULL THEN 1 ELSE 0 END,
       CASE WHEN c.handed_off_at IS NOT NULL THEN 1 ELSE 0 END,
       c.csat_rating,
       CASE WHEN f.ai_at >= f.contact_at THEN {ai_s} END,
       CASE WHEN f.operator_at >= c.handed_off_at THEN {op_s} END,
       CASE WHEN c.resolved_at IS NOT NULL THEN {res_s} END,
       CASE WHEN lower(c.handoff_reason) LIKE '{no_answer}%' THEN
           (SELECT lower(trim(substr(m.text, 1, 200))) FROM messages m
            WHERE m.id = (SELECT min(q.id) FROM messages q
                          WHERE q.conversation_id = c.id AND q.tenant_id = c.tenant_id
                            AND q.sender_type = 'contact')) END
FROM conversations c
LEFT JOIN analytics_conversation_facts f ON f.conversation_id = c.id"""


def _select(dialect: str) -> str:
    s = SECONDS[dialect]
    return SELECT.format(
        negative_below=NEGATIVE_CSAT_BELOW,
        no_answer=NO_ANSWER_PREFIX,
        ai_s=s.format(later="f.ai_at", earlier="f.contact_at"),
        op_s=s.format(later="f.operator_at", earlier="c.handed_off_at"),
        res_s=s.format(later="c.resolved_at", earlier="c.created_at"),
    )


COLUMNS = (
    "conversation_id, tenant_id, channel_id, created_at, resolved, ai_resolved, handed_off, "
    "csat, ai_s, op_s, res_s, question"
)
UPDATED = (
    "tenant_id",
    "channel_id",
    "created_at",
    "resolved",
    "ai_resolved",
    "handed_off",
    "csat",
    "ai_s",
    "op_s",
    "res_s",
    "question",
)


def _refresh(dialect: str, conversation: str) -> str:
    """Recompute one conversation's row (written only when something in it changed)."""
    differs = " IS NOT " if dialect == "sqlite" else " IS DISTINCT FROM "
    table = "analytics_conversations"
    return (
        f"INSERT INTO {table} ({COLUMNS}) {_select(dialect)} WHERE c.id = {conversation} "
        "ON CONFLICT (conversation_id) DO UPDATE SET "
        + ", ".join(f"{col} = excluded.{col}" for col in UPDATED)
        + " WHERE "
        + " OR ".join(f"{table}.{col}{differs}excluded.{col}" for col in UPDATED)
    )


# the hourly sums: add (sign 1) or take away (sign -1) one conversation's row ``{r}``
HOURLY_COUNTS = "conversations, resolved, ai_resolved, handed_off, csat_sum, csat_count"
KEY = {
    "sqlite": ("date({r}.created_at)", "CAST(strftime('%H', {r}.created_at) AS INTEGER)"),
    "postgresql": (
        "CAST(timezone('UTC', {r}.created_at) AS date)",
        "CAST(EXTRACT(hour FROM timezone('UTC', {r}.created_at)) AS INTEGER)",
    ),
}


MOVE = """
INSERT INTO analytics_hourly (tenant_id, day, hour, channel_id, {counts})
VALUES ({r}.tenant_id, {day}, {hour}, {r}.channel_id, {sign}, {sign} * {r}.resolved,
        {sign} * {r}.ai_resolved, {sign} * {r}.handed_off, {sign} * coalesce({r}.csat, 0),
        CASE WHEN {r}.csat IS NULL THEN 0 ELSE {sign} END)
ON CONFLICT (tenant_id, day, hour, channel_id) DO UPDATE SET
    conversations = analytics_hourly.conversations + excluded.conversations,
    resolved = analytics_hourly.resolved + excluded.resolved,
    ai_resolved = analytics_hourly.ai_resolved + excluded.ai_resolved,
    handed_off = analytics_hourly.handed_off + excluded.handed_off,
    csat_sum = analytics_hourly.csat_sum + excluded.csat_sum,
    csat_count = analytics_hourly.csat_count + excluded.csat_count"""


def _move(dialect: str, r: str, sign: int) -> str:
    day, hour = (k.format(r=r) for k in KEY[dialect])
    return MOVE.format(counts=HOURLY_COUNTS, r=r, day=day, hour=hour, sign=sign)


# an update moves the hourly sums only when a counted column (or the row's hour) changed
COUNTED = ("tenant_id", "channel_id", "created_at", "resolved", "ai_resolved", "handed_off", "csat")
# the conversation columns a row is computed from
SOURCE = (
    "tenant_id",
    "channel_id",
    "created_at",
    "status",
    "resolved_at",
    "handed_off_at",
    "csat_rating",
    "reopened_soon",
    "handoff_reason",
)


def _changed(dialect: str, columns: Sequence[str]) -> str:
    differs = " IS NOT " if dialect == "sqlite" else " IS DISTINCT FROM "
    return " OR ".join(f"OLD.{c}{differs}NEW.{c}" for c in columns)


def _sqlite_triggers() -> list[str]:
    d = "sqlite"
    return [
        "CREATE TRIGGER tr_analytics_conversations_insert AFTER INSERT ON analytics_conversations "
        f"BEGIN {_move(d, 'NEW', 1)}; END",
        "CREATE TRIGGER tr_analytics_conversations_update AFTER UPDATE ON analytics_conversations "
        f"WHEN {_changed(d, COUNTED)} BEGIN {_move(d, 'OLD', -1)}; {_move(d, 'NEW', 1)}; END",
        "CREATE TRIGGER tr_analytics_conversations_delete AFTER DELETE ON analytics_conversations "
        f"BEGIN {_move(d, 'OLD', -1)}; END",
        "CREATE TRIGGER tr_conversations_analytics_insert AFTER INSERT ON conversations "
        f"BEGIN {_refresh(d, 'NEW.id')}; END",
        f"CREATE TRIGGER tr_conversations_analytics_update AFTER UPDATE OF {', '.join(SOURCE)} "
        f"ON conversations WHEN {_changed(d, SOURCE)} BEGIN {_refresh(d, 'NEW.id')}; END",
        "CREATE TRIGGER tr_conversations_analytics_delete AFTER DELETE ON conversations "
        "BEGIN DELETE FROM analytics_conversations WHERE conversation_id = OLD.id; END",
        "CREATE TRIGGER tr_facts_analytics_insert AFTER INSERT ON analytics_conversation_facts "
        f"BEGIN {_refresh(d, 'NEW.conversation_id')}; END",
        "CREATE TRIGGER tr_facts_analytics_update AFTER UPDATE ON analytics_conversation_facts "
        f"BEGIN {_refresh(d, 'NEW.conversation_id')}; END",
    ]


def _pg_function(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{body}; RETURN NULL; END $$"
    )


def _pg_triggers() -> list[str]:
    d = "postgresql"
    return [
        _pg_function(
            "analytics_hourly_move",
            "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
            f"{_move(d, 'OLD', -1)}; END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {_move(d, 'NEW', 1)}; END IF",
        ),
        "CREATE TRIGGER tr_analytics_conversations_move AFTER INSERT OR DELETE "
        "ON analytics_conversations FOR EACH ROW EXECUTE FUNCTION analytics_hourly_move()",
        "CREATE TRIGGER tr_analytics_conversations_update AFTER UPDATE ON analytics_conversations "
        f"FOR EACH ROW WHEN ({_changed(d, COUNTED)}) EXECUTE FUNCTION analytics_hourly_move()",
        _pg_function("analytics_conversation_refresh", _refresh(d, "NEW.id")),
        "CREATE TRIGGER tr_conversations_analytics_insert AFTER INSERT ON conversations "
        "FOR EACH ROW EXECUTE FUNCTION analytics_conversation_refresh()",
        f"CREATE TRIGGER tr_conversations_analytics_update AFTER UPDATE OF {', '.join(SOURCE)} "
        f"ON conversations FOR EACH ROW WHEN ({_changed(d, SOURCE)}) "
        "EXECUTE FUNCTION analytics_conversation_refresh()",
        _pg_function("analytics_facts_refresh", _refresh(d, "NEW.conversation_id")),
        "CREATE TRIGGER tr_facts_analytics AFTER INSERT OR UPDATE "
        "ON analytics_conversation_facts FOR EACH ROW EXECUTE FUNCTION analytics_facts_refresh()",
    ]


PG_DROP = (
    "DROP TRIGGER IF EXISTS tr_facts_analytics ON analytics_conversation_facts",
    "DROP TRIGGER IF EXISTS tr_conversations_analytics_update ON conversations",
    "DROP TRIGGER IF EXISTS tr_conversations_analytics_insert ON conversations",
    "DROP FUNCTION IF EXISTS analytics_facts_refresh()",
    "DROP FUNCTION IF EXISTS analytics_conversation_refresh()",
    "DROP FUNCTION IF EXISTS analytics_hourly_move() CASCADE",
)
SQLITE_DROP = tuple(
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "tr_analytics_conversations_insert",
        "tr_analytics_conversations_update",
        "tr_analytics_conversations_delete",
        "tr_conversations_analytics_insert",
        "tr_conversations_analytics_update",
        "tr_conversations_analytics_delete",
        "tr_facts_analytics_insert",
        "tr_facts_analytics_update",
    )
)

# the hourly sums of the backfilled rows
HOURLY_BACKFILL = """
INSERT INTO analytics_hourly (tenant_id, day, hour, channel_id, {counts})
SELECT r.tenant_id, {day}, {hour}, r.channel_id, count(*), sum(r.resolved),
       sum(r.ai_resolved), sum(r.handed_off), coalesce(sum(r.csat), 0), count(r.csat)
FROM analytics_conversations r
GROUP BY r.tenant_id, {day}, {hour}, r.channel_id
"""


def backfill(dialect: str) -> list[str]:
    """Every conversation's row, then the hourly sums of the rows (before the triggers
    exist: one grouped pass instead of one update per conversation)."""
    day, hour = (k.format(r="r") for k in KEY[dialect])
    return [
        f"INSERT INTO analytics_conversations ({COLUMNS}) {_select(dialect)}",
        HOURLY_BACKFILL.format(counts=HOURLY_COUNTS, day=day, hour=hour),
    ]


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    count = sa.Integer()
    op.create_table(
        "analytics_conversations",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", frontline.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.SmallInteger(), nullable=False),
        sa.Column("ai_resolved", sa.SmallInteger(), nullable=False),
        sa.Column("handed_off", sa.SmallInteger(), nullable=False),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("ai_s", sa.Float(), nullable=True),
        sa.Column("op_s", sa.Float(), nullable=True),
        sa.Column("res_s", sa.Float(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_analytics_conversations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_analytics_conversations")),
    )
    op.create_table(
        "analytics_hourly",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        *(
            sa.Column(name, count, nullable=False)
            for name in HOURLY_COUNTS.replace(" ", "").split(",")
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "hour", "channel_id", name=op.f("pk_analytics_hourly")
        ),
    )
    for statement in backfill(dialect):
        op.execute(statement)
    # the percentiles' range: index-only on PostgreSQL
    op.create_index(
        "ix_analytics_conversations_tenant_created",
        "analytics_conversations",
        ["tenant_id", "created_at"],
        postgresql_include=["channel_id", "ai_s", "op_s", "res_s"],
    )
    op.create_index(
        "ix_conversations_tenant_created_handed_off",
        "conversations",
        ["tenant_id", "created_at"],
        postgresql_include=["channel_id", "handoff_reason"],
        postgresql_where=sa.text("handed_off_at IS NOT NULL"),
        sqlite_where=sa.text("handed_off_at IS NOT NULL"),
    )
    op.create_index(
        "ix_analytics_conversations_unanswered",
        "analytics_conversations",
        ["tenant_id", "created_at"],
        postgresql_include=["channel_id", "question"],
        postgresql_where=sa.text("question IS NOT NULL"),
        sqlite_where=sa.text("question IS NOT NULL"),
    )
    for statement in _sqlite_triggers() if dialect == "sqlite" else _pg_triggers():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    for statement in SQLITE_DROP if dialect == "sqlite" else PG_DROP:
        op.execute(statement)
    op.drop_index("ix_analytics_conversations_unanswered", table_name="analytics_conversations")
    op.drop_index("ix_conversations_tenant_created_handed_off", table_name="conversations")
    op.drop_index("ix_analytics_conversations_tenant_created", table_name="analytics_conversations")
    op.drop_table("analytics_hourly")
    op.drop_table("analytics_conversations")
