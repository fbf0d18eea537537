"""Applies the Alembic migrations: at start (once across replicas) and by `s3auth db upgrade`.

Replicas starting together take turns: on PostgreSQL a session-level advisory lock, on a
SQLite file an exclusive file lock beside it. Whoever comes second finds the schema at
head and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import STATEMENT_TIMEOUT_SECONDS, Database

# `migrations/` of the repository, reached through the app/db/migrations link so that
# installs (wheels, the image) carry it inside the package.
MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by every replica; "s3auth" in ASCII.
ADVISORY_LOCK_KEY = 0x733361757468


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolates `%`; URL-encoded passwords contain it.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current_revision)


@contextlib.asynccontextmanager
async def _file_lock(path: str) -> AsyncIterator[None]:
    fd = os.open(f"{path}.migrate.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


async def _upgrade_locked(connection: AsyncConnection, dialect: str) -> None:
    if dialect == "postgresql":
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        await connection.commit()
    try:
        await connection.run_sync(_upgrade)
        await connection.commit()
    finally:
        if dialect == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
            await connection.commit()


async def upgrade(db: Database) -> str | None:
    """Brings the schema to head; returns the revision it is at."""
    head = head_revision()
    async with asyncio.timeout(STATEMENT_TIMEOUT_SECONDS * 4):
        path = db.sqlite_path
        if path is None and await current_revision(db) == head:
            return head
        lock = _file_lock(path) if path else contextlib.nullcontext()
        async with lock, db.engine.connect() as connection:
            if path:
                # Switching a file to WAL needs it to itself: done here, one replica at a
                # time, rather than by every connection racing another's migration.
                await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            await _upgrade_locked(connection, db.dialect)
        return await current_revision(db)


async def upgrade_url(url: str) -> str | None:
    db = Database(url)
    try:
        return await upgrade(db)
    finally:
        await db.close()
