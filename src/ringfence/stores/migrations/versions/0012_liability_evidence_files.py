"""liabilities: read ids move to each run's evidence file; the (charge_day, status) index goes

Rows decided before keep their read ids (the column stays, nullable); new runs leave it NULL
and write `<data-dir>/charges/<day>/<run_id>.parquet` (stores/charge_evidence.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 20:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_liabilities_charge_day_status", table_name="liabilities")
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.alter_column("read_ids", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    # A row whose ids are only in its run's file gets an empty list: the file stays.
    op.execute("UPDATE liabilities SET read_ids = '[]' WHERE read_ids IS NULL")
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.alter_column("read_ids", existing_type=sa.JSON(), nullable=False)
    op.create_index(
        "ix_liabilities_charge_day_status", "liabilities", ["charge_day", "status"], unique=False
    )
