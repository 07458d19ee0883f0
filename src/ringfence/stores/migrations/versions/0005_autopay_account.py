"""liabilities account

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:04:40.143879
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_liabilities_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liabilities_account_id"))
        batch_op.drop_column("account_id")
