"""Knowledge documents: ``failure_code`` (why ingestion failed: the parser's error code, so
the console explains it in the reader's language)

Revision ID: 0022_audit14_failure_code
Revises: 0022_an365_analytics_rollups
Create Date: 2026-12-07 11:20:00

Existing failed rows keep their English ``failure_reason`` and read ``failure_code`` NULL
(the console then shows the reason as it is).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_audit14_failure_code"
down_revision: str | None = "0022_an365_analytics_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kb_documents") as batch:
        batch.add_column(sa.Column("failure_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by copying the table: keep AUTOINCREMENT on the copy
    with op.batch_alter_table("kb_documents", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("failure_code")
