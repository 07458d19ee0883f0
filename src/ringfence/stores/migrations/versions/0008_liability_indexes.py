"""liability indexes: (charge_day, status) replaces the redundant charge_day and status ones

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 15:28:01.939191
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The unique key already leads with charge_day; a day's rows are looked up by status.
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liabilities_charge_day"))
        batch_op.drop_index(batch_op.f("ix_liabilities_status"))
        batch_op.create_index(
            "ix_liabilities_charge_day_status", ["charge_day", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index("ix_liabilities_charge_day_status")
        batch_op.create_index(batch_op.f("ix_liabilities_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_liabilities_charge_day"), ["charge_day"], unique=False)
