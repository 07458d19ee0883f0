"""liabilities: a partial index on the settled rows (noticed or reviewed) of each day

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 20:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SETTLED = "status = 'noticed' OR reviewed_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_liabilities_settled",
        "liabilities",
        ["charge_day"],
        unique=False,
        sqlite_where=sa.text(SETTLED),
        postgresql_where=sa.text(SETTLED),
    )


def downgrade() -> None:
    op.drop_index("ix_liabilities_settled", table_name="liabilities")
