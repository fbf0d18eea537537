"""Reaching a running test app's services and database from a test."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.services import Services


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def on_app_loop(client: TestClient, fn: Any, *args: Any) -> Any:
    """Runs a coroutine function on the app's event loop, where its database and tasks live."""
    assert client.portal is not None
    return client.portal.call(fn, *args)


def count_rows(client: TestClient, model: type[Any]) -> int:
    async def count() -> int:
        async with services_of(client).db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return int(on_app_loop(client, count))
