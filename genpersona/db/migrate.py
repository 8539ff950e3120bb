"""Run the ordered Alembic migrations programmatically (no alembic.ini needed).

Revisions are numbered 0001, 0002, ... and each names its predecessor, so the
schema of any database can be brought to head with ``upgrade``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from genpersona.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        if revision == "head" and current_revision(engine) == head_revision(engine):
            return
        command.upgrade(alembic_config(engine), revision)
    except Exception as exc:
        raise MigrationError(
            f"database migration to {revision} failed: {exc}",
            fix="restore the database from a backup or point GENPERSONA_DATABASE_URL at a fresh one",
        ) from exc


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
