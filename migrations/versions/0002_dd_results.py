"""Dynamic Desirability lists (every version kept) and each miner's latest validation score.

Revision ID: 0002_dd_results
Revises: 0001_ondemand
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.base import UTCDateTime

revision = "0002_dd_results"
down_revision = "0001_ondemand"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dd_lists",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("generated_at", UTCDateTime(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_dd_lists")),
        sa.UniqueConstraint("version", name=op.f("uq_dd_lists_version")),
    )
    op.create_table(
        "validation_results",
        sa.Column("miner_hotkey", sa.String(64), nullable=False),
        sa.Column("validator_hotkey", sa.String(64), nullable=False),
        sa.Column("validator_uid", sa.Integer(), nullable=False),
        sa.Column("score", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("miner_hotkey", name=op.f("pk_validation_results")),
    )
    op.create_index(op.f("ix_validation_results_updated_at"), "validation_results", ["updated_at"])


def downgrade() -> None:
    op.drop_table("validation_results")
    op.drop_table("dd_lists")
