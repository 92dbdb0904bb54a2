"""Knowledge chunks: ``rerank_vector`` and ``rerank_model`` (the semantic re-rank's vector of
each chunk and the models it came from; null until the background job embeds the chunk)

Revision ID: 0023_rerank_vectors
Revises: 0022_moder_moderation
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0023_rerank_vectors"
down_revision: str | None = "0022_moder_moderation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kb_chunks") as batch:
        batch.add_column(sa.Column("rerank_vector", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("rerank_model", sa.String(length=200), nullable=True))
    # the chunks already stored get their vectors in the background: one knowledge.rerank
    # job per tenant that has chunks (search stays lexical for them meanwhile)
    tenants = op.get_bind().execute(sa.text("SELECT DISTINCT tenant_id FROM kb_chunks"))
    now = datetime.now(UTC)
    jobs = sa.table(
        "jobs",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("payload", sa.JSON()),
        sa.column("status", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("max_attempts", sa.Integer()),
        sa.column("run_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    rows = [
        {
            "tenant_id": tenant if isinstance(tenant, uuid.UUID) else uuid.UUID(str(tenant)),
            "kind": "knowledge.rerank",
            "payload": {},
            "status": "queued",
            "attempts": 0,
            "max_attempts": 8,
            "run_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for (tenant,) in tenants
    ]
    if rows:
        op.bulk_insert(jobs, rows)


def downgrade() -> None:
    # SQLite drops a column by copying the table: keep AUTOINCREMENT on the copy (without
    # it a deleted chunk's id is given again, and an index that catches up by ids above
    # the highest it has would keep the deleted chunk's terms under the new chunk's id)
    with op.batch_alter_table("kb_chunks", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("rerank_model")
        batch.drop_column("rerank_vector")
