"""penalty notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:57:34.426146
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "penalty_notices",
        sa.Column("pcn_id", sa.String(length=40), nullable=False),
        sa.Column("liability_id", sa.Integer(), nullable=True),
        sa.Column("charge_day", sa.Date(), nullable=False),
        sa.Column("scheme_id", sa.String(length=32), nullable=False),
        sa.Column("key_epoch", sa.Integer(), nullable=False),
        sa.Column("vrm_pseudonym", sa.LargeBinary(length=16), nullable=False),
        sa.Column("vrm", sa.String(length=16), nullable=False),
        sa.Column("keeper_ref", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("amount_due_pence", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("evidence_ref", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["liability_id"],
            ["liabilities.id"],
            name=op.f("fk_penalty_notices_liability_id_liabilities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pcn_id", name=op.f("pk_penalty_notices")),
        sa.UniqueConstraint(
            "charge_day",
            "scheme_id",
            "key_epoch",
            "vrm_pseudonym",
            name=op.f("uq_penalty_notices_charge_day"),
        ),
    )
    with op.batch_alter_table("penalty_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_penalty_notices_charge_day"), ["charge_day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_penalty_notices_liability_id"), ["liability_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_penalty_notices_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("penalty_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_penalty_notices_state"))
        batch_op.drop_index(batch_op.f("ix_penalty_notices_liability_id"))
        batch_op.drop_index(batch_op.f("ix_penalty_notices_charge_day"))

    op.drop_table("penalty_notices")
