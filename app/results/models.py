"""Each miner's latest published validation score."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime


class ValidationResult(Base):
    __tablename__ = "validation_results"

    miner_hotkey: Mapped[str] = mapped_column(String(64), primary_key=True)
    validator_hotkey: Mapped[str] = mapped_column(String(64))
    validator_uid: Mapped[int] = mapped_column(Integer)
    # Opaque to the service: publishers have added keys over time.
    score: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
