"""refunds: charge-day payments above what was owed and PCN overpayments, due or issued

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("charge_day", sa.Date(), nullable=False),
        sa.Column("scheme_id", sa.String(length=32), nullable=False),
        sa.Column("key_epoch", sa.Integer(), nullable=False),
        sa.Column("vrm_pseudonym", sa.LargeBinary(length=16), nullable=False),
        sa.Column("vrm", sa.String(length=16), nullable=True),
        sa.Column("paid_pence", sa.Integer(), nullable=False),
        sa.Column("due_pence", sa.Integer(), nullable=False),
        sa.Column("refund_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(length=128), nullable=True),
        sa.Column("payment_ref", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_refunds_charge_day_status", ["charge_day", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_refunds_charge_day_status")

    op.drop_table("refunds")
