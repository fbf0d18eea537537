"""Tables of on-demand jobs and the miners' submissions to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime

# SQLite numbers rows only for an INTEGER PRIMARY KEY.
ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class Job(Base):
    __tablename__ = "ondemand_jobs"
    __table_args__ = (Index("ix_ondemand_jobs_customer_expire", "customer", "expire_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # The `job` object as miners receive it (platform, usernames, keywords, url, subreddit).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    start_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    limit: Mapped[int] = mapped_column("row_limit", Integer)
    keyword_mode: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expire_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The replica recording what landed claims the job first, so only one lists it.
    settle_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A fingerprint of the customer key that created the job (never the key itself).
    customer: Mapped[str | None] = mapped_column(String(32), default=None)


class Submission(Base):
    __tablename__ = "ondemand_submissions"
    __table_args__ = (
        UniqueConstraint("job_id", "miner_hotkey"),
        Index("ix_ondemand_submissions_miner_expire", "miner_hotkey", "job_expire_at"),
    )

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("ondemand_jobs.id", ondelete="CASCADE")
    )
    # The job's expire_at, copied (it never changes) so a miner's window is one index range.
    job_expire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    miner_hotkey: Mapped[str] = mapped_column(String(64))
    miner_incentive: Mapped[float] = mapped_column(Float)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    s3_path: Mapped[str] = mapped_column(String(512))
    # What storage holds, recorded once after the upload window closed (null until then).
    s3_content_length: Mapped[int | None] = mapped_column(BigInteger)
    s3_etag: Mapped[str | None] = mapped_column(String(128))
    s3_last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime)
