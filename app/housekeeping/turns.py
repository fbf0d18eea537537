"""One housekeeping pass at a time across replicas and commands.

PostgreSQL: a session-level advisory lock held on one connection for the pass (released
when the pass ends or the connection dies). SQLite: an exclusive lock on a file beside
the database, as the migrations take. Whoever does not get the turn skips this pass
rather than queueing behind one that is doing the same work.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator

from sqlalchemy import text

from app.db import Database, DatabaseUnavailable
from app.db.engine import OUTAGES

# Any constant every replica shares, apart from the migrations' and publishers' keys.
REAP_LOCK_KEY = 0x733372656170  # "s3reap" in ASCII
CONNECT_SECONDS = 10.0


@contextlib.asynccontextmanager
async def _postgres_turn(db: Database) -> AsyncIterator[bool]:
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            connection = await db.engine.connect()
    except OUTAGES as exc:
        raise DatabaseUnavailable() from exc
    try:
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                got = bool(
                    await connection.scalar(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": REAP_LOCK_KEY}
                    )
                )
                await connection.commit()
        except OUTAGES as exc:
            raise DatabaseUnavailable() from exc
        yield got
        if got:
            # Closing the connection would release it too; a dead one already has.
            with contextlib.suppress(*OUTAGES):
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": REAP_LOCK_KEY}
                )
                await connection.commit()
    finally:
        with contextlib.suppress(*OUTAGES):
            await connection.close()


@contextlib.asynccontextmanager
async def reaper_turn(db: Database) -> AsyncIterator[bool]:
    """Yields True when this process has the turn for the length of the block."""
    if db.dialect == "postgresql":
        async with _postgres_turn(db) as got:
            yield got
        return
    path = db.sqlite_path
    if path is None:  # an in-memory database lives in one process
        yield True
        return
    fd = os.open(f"{path}.reap.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock
