"""The async engine and sessions built from `DATABASE_URL`, and the bound on every use.

A request must never wait on a database that is down or silent: connecting, taking a
pooled connection and each statement have their own timeouts, and `Database.session()`
puts a deadline around the whole unit of work. Any failure of the database itself turns
into 503 `database_unavailable`; a broken pooled connection is discarded, so the service
recovers by itself when the database is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.errors import ServiceError, Unavailable

logger = logging.getLogger(__name__)

# What a request may spend on the database, all statements of its unit of work included.
REQUEST_DEADLINE_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 0.8
# Background work (settling, retention, migrations) may take longer than a request.
STATEMENT_TIMEOUT_SECONDS = 30.0
RETRY_AFTER_SECONDS = 2
LOG_INTERVAL_SECONDS = 30.0


# What the database (or the way to it) failing looks like; anything else is a bug.
OUTAGES = (
    DBAPIError,
    DisconnectionError,
    PoolTimeout,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The database is not reachable; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {
            "pool_size": 10,
            "max_overflow": 10,
            "pool_timeout": REQUEST_DEADLINE_SECONDS,
            # A connection that died with a restarted server is replaced before use
            # instead of failing one request.
            "pool_pre_ping": True,
            "pool_recycle": 1800,
            "connect_args": {
                "timeout": CONNECT_TIMEOUT_SECONDS,
                "command_timeout": STATEMENT_TIMEOUT_SECONDS,
                "server_settings": {"application_name": "s3auth"},
            },
        }
    # sqlite3's `timeout` is its busy timeout: how long a writer waits for another's lock.
    return {"connect_args": {"timeout": REQUEST_DEADLINE_SECONDS}}


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Cascading deletes need foreign keys on. (WAL, which lets readers run beside the
    # writer, is a property of the file: the migration runner sets it once.)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, **engine_options(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """One engine and its session factory; closed with the app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._next_log = 0.0

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> str | None:
        """The file of a file-backed SQLite database (None for PostgreSQL or :memory:)."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        return parsed.database

    @asynccontextmanager
    async def session(
        self, *, deadline: float = REQUEST_DEADLINE_SECONDS
    ) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed at the end, all within `deadline`."""
        try:
            async with asyncio.timeout(deadline), self.sessions.begin() as session:
                yield session
        except (ServiceError, IntegrityError, ProgrammingError, DataError):
            # Refusals, conflicts and bugs are not outages.
            raise
        except OUTAGES as exc:
            self.log_outage(exc)
            raise DatabaseUnavailable() from exc

    def log_outage(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now >= self._next_log:
            self._next_log = now + LOG_INTERVAL_SECONDS
            # The exception names host and port, never the URL's password.
            logger.error("database unavailable: %s: %s", type(exc).__name__, exc)

    async def close(self) -> None:
        await self.engine.dispose()
