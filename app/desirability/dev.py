"""A small Dynamic Desirability list for `s3auth dev`, so its endpoints answer something real."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from pydantic import SecretStr

from app.db import Database
from app.db.migrate import upgrade_url
from app.desirability import repository
from app.desirability.schemas import Entry
from config import Settings

DEV_ENTRIES = (
    {"id": "dev-x-bittensor", "platform": "x", "weight": 2.0, "label": "#bittensor"},
    {"id": "dev-x-ai", "platform": "x", "weight": 1.5, "keyword": "decentralized ai"},
    {
        "id": "dev-reddit-machinelearning",
        "platform": "reddit",
        "weight": 1.0,
        "label": "r/MachineLearning",
        "max_rows": 10000,
    },
)


async def _seed(url: str) -> str:
    """Publishes the dev list unless the database already holds one; returns the served version."""
    await upgrade_url(url)
    db = Database(url)
    try:
        async with db.session(deadline=30) as session:
            seq = await repository.newest_seq(session)
            if seq is not None:
                row = await repository.get(session, seq)
            else:
                entries = [Entry.model_validate(e).model_dump(mode="json") for e in DEV_ENTRIES]
                row = await repository.publish(session, entries, datetime.now(UTC))
            assert row is not None
            return row.version
    finally:
        await db.close()


def seed_dev_desirability(settings: Settings) -> tuple[Settings, str]:
    """Seeds the list and adds an admin key (unless one is set) to publish more.

    Returns the settings with that key, and the version of the list being served.
    """
    if not settings.admin_api_keys:
        settings = settings.model_copy(
            update={"admin_api_keys": (SecretStr(f"dev-admin-{secrets.token_hex(8)}"),)}
        )
    return settings, asyncio.run(_seed(settings.database_url))
