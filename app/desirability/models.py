"""Every published Dynamic Desirability list, kept: the newest is the one served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime


class DDList(Base):
    __tablename__ = "dd_lists"

    # Publication number, 1 for the first list: the newest list has the highest.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The entries exactly as clients receive them (every field, nulls included).
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    entry_count: Mapped[int] = mapped_column(Integer)
