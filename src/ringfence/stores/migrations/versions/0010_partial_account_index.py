"""liabilities.account_id: a partial index (only rows billed to an Auto Pay account)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 17:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BILLED = sa.text("account_id IS NOT NULL")


def upgrade() -> None:
    # A charge run writes hundreds of thousands of liabilities, almost all without an account:
    # indexing only the billed ones spares the run an index write per row.
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liabilities_account_id"))
        batch_op.create_index(
            "ix_liabilities_account_id",
            ["account_id"],
            unique=False,
            sqlite_where=_BILLED,
            postgresql_where=_BILLED,
        )


def downgrade() -> None:
    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index("ix_liabilities_account_id")
        batch_op.create_index(batch_op.f("ix_liabilities_account_id"), ["account_id"], unique=False)
