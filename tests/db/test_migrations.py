"""The migrations build the schema the models declare, once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from app.cli import main
from app.db import Database
from app.db.migrate import current_revision, head_revision, upgrade_url
from app.db.models import metadata
from tests.database import fresh_postgres_database, sqlite_url


def schema_differences(url: str) -> list[object]:
    def compare(connection: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(connection), metadata)

    async def run() -> list[object]:
        db = Database(url)
        try:
            async with db.engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await db.close()

    return asyncio.run(run())


def tables_of(url: str) -> set[str]:
    async def run() -> set[str]:
        db = Database(url)
        try:
            async with db.engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await db.close()

    return asyncio.run(run())


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert schema_differences(database_url) == []


def test_upgrade_at_head_changes_nothing(database_url: str) -> None:
    before = tables_of(database_url)
    assert asyncio.run(upgrade_url(database_url)) == head_revision()
    assert tables_of(database_url) == before


async def _upgrade_together(url: str, replicas: int) -> list[str | None]:
    return await asyncio.gather(*(upgrade_url(url) for _ in range(replicas)))


def test_replicas_starting_together_on_postgres_migrate_once() -> None:
    with fresh_postgres_database() as url:
        revisions = asyncio.run(_upgrade_together(url, 4))
        assert revisions == [head_revision()] * 4
        assert schema_differences(url) == []


def test_replicas_starting_together_on_one_sqlite_file_migrate_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "shared.sqlite3")
    revisions = asyncio.run(_upgrade_together(url, 4))
    assert revisions == [head_revision()] * 4
    assert schema_differences(url) == []
    with contextlib.closing(sqlite3.connect(tmp_path / "shared.sqlite3")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_db_upgrade_command_creates_the_schema(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = sqlite_url(tmp_path / "cli.sqlite3")
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert {"ondemand_jobs", "ondemand_submissions"} <= tables_of(url)


def test_db_upgrade_command_on_postgres_creates_the_schema(capsys) -> None:  # type: ignore[no-untyped-def]
    with fresh_postgres_database() as url:
        assert main(["db", "upgrade", "--database-url", url]) == 0
        assert {"ondemand_jobs", "ondemand_submissions"} <= tables_of(url)

        async def revision() -> str | None:
            db = Database(url)
            try:
                return await current_revision(db)
            finally:
                await db.close()

        assert asyncio.run(revision()) == head_revision()


def test_db_upgrade_command_with_no_server_exits_1(capsys) -> None:  # type: ignore[no-untyped-def]
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    assert main(["db", "upgrade", "--database-url", url]) == 1
    assert "database upgrade failed" in capsys.readouterr().err
