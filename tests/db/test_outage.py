"""A database that is down or silent is a 503 `database_unavailable`, and the service recovers."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from app.db import Database, DatabaseUnavailable
from tests.tcp_proxy import TcpProxy

# Far above the ~1 s the database layer allows itself; only turns a hang into a failure.
HANG = 10.0


async def select_one(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def outcome(db: Database) -> int | str:
    try:
        return await asyncio.wait_for(select_one(db), HANG)
    except DatabaseUnavailable as exc:
        return exc.code


def proxied(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    return url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}", 1)


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """Outages are of a server across the network: PostgreSQL only."""
    return postgres_database


def test_database_down_then_back_is_503_then_served(postgres_url: str) -> None:
    async def scenario() -> list[int | str]:
        parts = urlsplit(postgres_url)
        proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
        db = Database(proxied(postgres_url, proxy))
        try:
            seen = [await outcome(db)]
            await proxy.stop()
            seen.append(await outcome(db))
            seen.append(await outcome(db))
            await proxy.start()
            seen.append(await outcome(db))
            return seen
        finally:
            await db.close()
            await proxy.stop()

    assert asyncio.run(scenario()) == [1, "database_unavailable", "database_unavailable", 1]


def test_silent_database_is_503_not_a_hang(postgres_url: str) -> None:
    async def scenario() -> list[int | str]:
        parts = urlsplit(postgres_url)
        proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
        db = Database(proxied(postgres_url, proxy))
        try:
            proxy.silent = True
            seen = [await outcome(db)]
            proxy.silent = False
            seen.append(await outcome(db))
            return seen
        finally:
            await db.close()
            await proxy.stop()

    assert asyncio.run(scenario()) == ["database_unavailable", 1]


def test_refusals_inside_a_session_are_not_outages(database_url: str) -> None:
    from app.errors import NotFound

    async def scenario() -> None:
        db = Database(database_url)
        try:
            async with db.session():
                raise NotFound("no such job", code="job_not_found")
        finally:
            await db.close()

    with pytest.raises(NotFound):
        asyncio.run(scenario())
