"""Which customer key created each on-demand job, to cap the jobs a key holds open.

Revision ID: 0003_job_customer
Revises: 0002_dd_results
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_job_customer"
down_revision = "0002_dd_results"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ondemand_jobs") as batch:
        batch.add_column(sa.Column("customer", sa.String(32), nullable=True))
    op.create_index("ix_ondemand_jobs_customer_expire", "ondemand_jobs", ["customer", "expire_at"])


def downgrade() -> None:
    op.drop_index("ix_ondemand_jobs_customer_expire", table_name="ondemand_jobs")
    with op.batch_alter_table("ondemand_jobs") as batch:
        batch.drop_column("customer")
