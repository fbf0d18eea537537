"""On-demand jobs and submissions.

Revision ID: 0001_ondemand
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.base import UTCDateTime

revision = "0001_ondemand"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ondemand_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("start_date", UTCDateTime(), nullable=True),
        sa.Column("end_date", UTCDateTime(), nullable=True),
        sa.Column("row_limit", sa.Integer(), nullable=False),
        sa.Column("keyword_mode", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expire_at", UTCDateTime(), nullable=False),
        sa.Column("settle_claimed_at", UTCDateTime(), nullable=True),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ondemand_jobs")),
    )
    op.create_index(op.f("ix_ondemand_jobs_created_at"), "ondemand_jobs", ["created_at"])
    op.create_index(op.f("ix_ondemand_jobs_expire_at"), "ondemand_jobs", ["expire_at"])
    op.create_table(
        "ondemand_submissions",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("job_expire_at", UTCDateTime(), nullable=False),
        sa.Column("miner_hotkey", sa.String(64), nullable=False),
        sa.Column("miner_incentive", sa.Float(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("s3_path", sa.String(512), nullable=False),
        sa.Column("s3_content_length", sa.BigInteger(), nullable=True),
        sa.Column("s3_etag", sa.String(128), nullable=True),
        sa.Column("s3_last_modified", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["ondemand_jobs.id"],
            name=op.f("fk_ondemand_submissions_job_id_ondemand_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ondemand_submissions")),
        sa.UniqueConstraint("job_id", "miner_hotkey", name=op.f("uq_ondemand_submissions_job_id")),
    )
    op.create_index(
        "ix_ondemand_submissions_miner_expire",
        "ondemand_submissions",
        ["miner_hotkey", "job_expire_at"],
    )


def downgrade() -> None:
    op.drop_table("ondemand_submissions")
    op.drop_table("ondemand_jobs")
