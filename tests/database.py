"""Database fixtures: every test that takes `database_url` runs on SQLite and on PostgreSQL.

SQLite is a migrated file per test (copied from a template migrated once per session).
PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user postgres; `TEST_POSTGRES_URL`
names another): each run creates its own database `s3auth_test_<random>`, migrates it once,
empties its tables before each test and drops it at the end. The PostgreSQL variant is
skipped, with the reason, only when no server answers there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from app.db.migrate import upgrade_url

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def postgres_url(database: str) -> str:
    """The SQLAlchemy URL of `database` on the test server."""
    parts = urlsplit(ADMIN_URL)
    return f"postgresql+asyncpg://{parts.netloc}/{database}"


def postgres_unreachable() -> str | None:
    parts = urlsplit(ADMIN_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=1):
            return None
    except OSError as exc:
        return (
            f"no PostgreSQL answers at {host}:{port} ({exc.strerror or exc}); "
            "start it (e.g. `service postgresql start`) to run the PostgreSQL variant"
        )


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """An empty database of its own on the test server, dropped afterwards."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"s3auth_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url(name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty_tables(url: str) -> None:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        await connection.execute("SET lock_timeout = '5s'")
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


def empty_postgres_tables(url: str) -> None:
    asyncio.run(_empty_tables(url))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """This run's migrated PostgreSQL database (shared by the tests; see `database_url`)."""
    with fresh_postgres_database() as url:
        asyncio.run(upgrade_url(url))
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "s3auth.sqlite3"
    asyncio.run(upgrade_url(sqlite_url(path)))
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "s3auth.sqlite3"
    shutil.copyfile(template, path)
    return sqlite_url(path)


@pytest.fixture
def sqlite_database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """An empty, migrated SQLite database of this test's own (apps' default in tests)."""
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a SQLite file, then the run's PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("postgres_database")
    empty_postgres_tables(url)
    return url
