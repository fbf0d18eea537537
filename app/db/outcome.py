"""Writes whose answer tells the truth: a 503 only when nothing was written.

A deadline that fires while COMMIT is on its way cannot tell whether PostgreSQL committed:
the reply may just be late. Answering 503 then would lose stored work (a miner told to
retry gets 409 and no form; a customer makes a duplicate job). So the statements before
COMMIT keep the request's short deadline (a failure there rolls back), COMMIT gets its
own longer bound, and when even that passes the outcome is settled before answering:
the backend that held the transaction is terminated (after which it can neither commit
nor still be committing) and the row is looked up by a key the write carries.

SQLite commits on local disk inside the process, so there the commit is simply awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import OUTAGES, REQUEST_DEADLINE_SECONDS, Database, DatabaseUnavailable
from app.errors import ServiceError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# COMMIT alone may take this long before its outcome counts as unknown.
COMMIT_SECONDS = 3.0
# From the start of the write to the answer, finding out an unknown outcome included.
TOTAL_SECONDS = 6.0
# Closing a session whose connection may be stuck never holds the answer longer.
DISCARD_SECONDS = 0.5
RETRY_PAUSE_SECONDS = 0.1
ATTEMPT_SECONDS = 1.5
TERMINATE_WAIT_SECONDS = 1.0
ALIVE = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
NOT_OUTAGES = (ServiceError, IntegrityError, ProgrammingError, DataError)

Work = Callable[[AsyncSession], Awaitable[T]]
Found = Callable[[AsyncSession], Awaitable[bool]]


async def write(
    db: Database,
    work: Work[T],
    *,
    found: Found,
    deadline: float = REQUEST_DEADLINE_SECONDS,
    commit_seconds: float = COMMIT_SECONDS,
    total_seconds: float = TOTAL_SECONDS,
) -> T:
    """Runs `work` in a transaction and commits it; `found` tells whether it was stored.

    Raises `DatabaseUnavailable` only when the write is known not to have been stored
    (or, past `total_seconds`, when the database cannot be reached to find out).
    """
    started = time.monotonic()
    session = db.sessions()
    driver: Any = None
    pid: int | None = None
    unknown: BaseException | None = None
    try:
        try:
            async with asyncio.timeout(deadline):
                await session.begin()
                result = await work(session)
                await session.flush()
                driver = await driver_connection(session)
                pid = server_pid(driver)
        except NOT_OUTAGES:
            raise
        except OUTAGES as exc:
            db.log_outage(exc)
            raise DatabaseUnavailable() from exc
        # Up to here nothing was committed: every failure above rolled the work back.
        if pid is None:
            await session.commit()
            return result
        # A cancelled query makes asyncpg wait for the server's reply to the cancel, on
        # the very connection that is silent: COMMIT runs as its own task instead, and
        # past its bound the connection is cut, which ends that task at once.
        commit = asyncio.ensure_future(session.commit())
        try:
            await asyncio.wait_for(asyncio.shield(commit), commit_seconds)
            return result
        except NOT_OUTAGES:
            raise
        except OUTAGES as exc:
            unknown = exc
            if driver is not None:
                with contextlib.suppress(Exception):
                    driver.terminate()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(commit, DISCARD_SECONDS)
    finally:
        await _discard(session, broken=unknown is not None)
    assert unknown is not None
    logger.warning("commit outcome unknown (%s); finding it out", type(unknown).__name__)
    if await _settle(db, pid, found, until=started + total_seconds):
        return result
    db.log_outage(unknown)
    raise DatabaseUnavailable() from unknown


async def driver_connection(session: AsyncSession) -> Any:
    """The driver's own connection under the session (asyncpg's, or aiosqlite's)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def server_pid(driver: Any) -> int | None:
    """The PostgreSQL backend serving this connection (None on SQLite); no round trip."""
    get_pid = getattr(driver, "get_server_pid", None)
    return int(get_pid()) if get_pid is not None else None


async def _discard(session: AsyncSession, *, broken: bool) -> None:
    """Gives the connection back, or drops it when its state is unknown."""
    try:
        async with asyncio.timeout(DISCARD_SECONDS):
            if broken:
                await session.invalidate()
            await session.close()
    except (*OUTAGES, asyncio.CancelledError):
        pass


async def _settle(db: Database, pid: int, found: Found, *, until: float) -> bool:
    """Ends backend `pid`, then whether the write is stored; False if that stays unknown."""
    while (left := until - time.monotonic()) > 0:
        try:
            # One try may meet a pooled connection as stuck as the first: bound each try
            # so another one, on another connection, still fits in the budget.
            async with asyncio.timeout(min(left, ATTEMPT_SECONDS)):
                async with db.engine.connect() as connection:
                    # Waits (in ms) until the backend is gone: after that its transaction
                    # is either committed or never will be.
                    ended = await connection.scalar(
                        text("SELECT pg_terminate_backend(:pid, :wait)"),
                        {"pid": pid, "wait": int(TERMINATE_WAIT_SECONDS * 1000)},
                    )
                    # False also when it had ended before: only a live one means "wait on".
                    if not ended and await connection.scalar(ALIVE, {"pid": pid}):
                        continue
                async with db.sessions() as session:
                    return await found(session)
        except OUTAGES:
            await asyncio.sleep(min(RETRY_PAUSE_SECONDS, max(0.0, until - time.monotonic())))
    return False
