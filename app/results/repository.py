"""The queries behind published validation scores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.results.models import ValidationResult

UPDATED_COLUMNS = ("validator_hotkey", "validator_uid", "score", "updated_at")


async def upsert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row replaces its miner's previous score, whoever published that."""
    if not rows:
        return
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ValidationResult).values(list(rows))
    statement = statement.on_conflict_do_update(
        index_elements=[ValidationResult.miner_hotkey],
        set_={name: statement.excluded[name] for name in UPDATED_COLUMNS},
    )
    await session.execute(statement)


async def all_results(session: AsyncSession) -> Sequence[ValidationResult]:
    query = select(ValidationResult).order_by(ValidationResult.miner_hotkey)
    return (await session.scalars(query)).all()


async def newest_update(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(ValidationResult.updated_at)))


async def published_at(
    session: AsyncSession, validator_hotkey: str, miners: Sequence[str], at: datetime
) -> bool:
    """Whether some of `miners` still hold the score this validator published at `at`."""
    query = (
        select(ValidationResult.miner_hotkey)
        .where(
            ValidationResult.miner_hotkey.in_(miners),
            ValidationResult.validator_hotkey == validator_hotkey,
            ValidationResult.updated_at == at,
        )
        .limit(1)
    )
    return (await session.scalar(query)) is not None
