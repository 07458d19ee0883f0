"""quarantine: only the unique index, no per-row detail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:55:54.682131
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_batch_id"))
        batch_op.drop_index(batch_op.f("ix_quarantine_reason"))
        batch_op.drop_index(batch_op.f("ix_quarantine_received_on"))
        batch_op.drop_column("detail")


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.TEXT(), nullable=False, server_default=""))
        batch_op.create_index(
            batch_op.f("ix_quarantine_received_on"), ["received_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quarantine_reason"), ["reason"], unique=False)
        batch_op.create_index(batch_op.f("ix_quarantine_batch_id"), ["batch_id"], unique=False)
