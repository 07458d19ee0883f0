"""liabilities

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:42:37.580710
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "liabilities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("charge_day", sa.Date(), nullable=False),
        sa.Column("scheme_id", sa.String(length=32), nullable=False),
        sa.Column("key_epoch", sa.Integer(), nullable=False),
        sa.Column("vrm_pseudonym", sa.LargeBinary(length=16), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=96), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.Column("read_ids", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liabilities")),
        sa.UniqueConstraint(
            "charge_day",
            "scheme_id",
            "key_epoch",
            "vrm_pseudonym",
            name=op.f("uq_liabilities_charge_day"),
        ),
    )
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_liabilities_charge_day"), ["charge_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_liabilities_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liabilities_status"))
        batch_op.drop_index(batch_op.f("ix_liabilities_charge_day"))

    op.drop_table("liabilities")
