"""Running the Alembic migrations from code (CLI ``frontline migrate``, ``serve``, tests)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

# the source tree's migrations; an installed package (a container image) names the folder
# it copied them to with FRONTLINE_MIGRATIONS_DIR
MIGRATIONS_DIR = Path(
    os.environ.get("FRONTLINE_MIGRATIONS_DIR")
    or Path(__file__).resolve().parent.parent / "migrations"
)


def alembic_config(database_url: str) -> Config:
    if not MIGRATIONS_DIR.is_dir():
        raise RuntimeError(
            f"migrations not found at {MIGRATIONS_DIR}; run Frontline from its source tree or "
            "set FRONTLINE_MIGRATIONS_DIR to the folder holding them"
        )
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision`` (must not be called inside a running event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
