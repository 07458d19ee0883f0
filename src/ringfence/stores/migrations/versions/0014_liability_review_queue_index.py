"""liabilities: a partial index on the review queue, in listing order

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 20:25:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

IN_REVIEW = "status = 'review'"


def upgrade() -> None:
    op.create_index(
        "ix_liabilities_review_queue",
        "liabilities",
        ["charge_day", "scheme_id", "id"],
        unique=False,
        sqlite_where=sa.text(IN_REVIEW),
        postgresql_where=sa.text(IN_REVIEW),
    )


def downgrade() -> None:
    op.drop_index("ix_liabilities_review_queue", table_name="liabilities")
