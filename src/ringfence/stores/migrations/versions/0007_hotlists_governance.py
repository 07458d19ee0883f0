"""hotlists, governance changes, release subjects and expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:48:31.285457
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_changes",
        sa.Column("change_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_governance_changes")),
    )
    with op.batch_alter_table("governance_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_changes_recorded_at"), ["recorded_at"], unique=False
        )

    op.create_table(
        "hotlist_entries",
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("vrm", sa.String(length=16), nullable=False),
        sa.Column("subject_index", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("force", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.String(length=128), nullable=False),
        sa.Column("officer_rank", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=128), nullable=False),
        sa.Column("legal_basis", sa.String(length=64), nullable=False),
        sa.Column("case_ref", sa.String(length=128), nullable=False),
        sa.Column("warning_markers", sa.JSON(), nullable=False),
        sa.Column("networks", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=128), nullable=True),
        sa.Column("ended_why", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_hotlist_entries")),
    )
    with op.batch_alter_table("hotlist_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotlist_entries_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hotlist_entries_subject_index"), ["subject_index"], unique=False
        )

    op.create_table(
        "hotlist_hits",
        sa.Column("hit_id", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("read_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("image_ref", sa.Text(), nullable=True),
        sa.Column("key_epoch", sa.Integer(), nullable=False),
        sa.Column("historical", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["hotlist_entries.entry_id"],
            name=op.f("fk_hotlist_hits_entry_id_hotlist_entries"),
        ),
        sa.PrimaryKeyConstraint("hit_id", name=op.f("pk_hotlist_hits")),
        sa.UniqueConstraint("entry_id", "read_id", name=op.f("uq_hotlist_hits_entry_id")),
    )
    with op.batch_alter_table("hotlist_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotlist_hits_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hotlist_hits_status"), ["status"], unique=False)

    op.create_table(
        "release_subjects",
        sa.Column("release_id", sa.String(length=40), nullable=False),
        sa.Column("subject_index", sa.String(length=64), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.release_id"],
            name=op.f("fk_release_subjects_release_id_releases"),
        ),
        sa.PrimaryKeyConstraint("release_id", "subject_index", name=op.f("pk_release_subjects")),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("expired_at")

    op.drop_table("release_subjects")
    with op.batch_alter_table("hotlist_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotlist_hits_status"))
        batch_op.drop_index(batch_op.f("ix_hotlist_hits_entry_id"))

    op.drop_table("hotlist_hits")
    with op.batch_alter_table("hotlist_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotlist_entries_subject_index"))
        batch_op.drop_index(batch_op.f("ix_hotlist_entries_status"))

    op.drop_table("hotlist_entries")
    with op.batch_alter_table("governance_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_changes_recorded_at"))

    op.drop_table("governance_changes")
