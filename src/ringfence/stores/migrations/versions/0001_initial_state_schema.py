"""initial state schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:34:54.571176
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("borough_gss", sa.String(length=9), nullable=True),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("enforces", sa.String(length=64), nullable=False),
        sa.Column("site_kind", sa.String(length=16), nullable=False),
        sa.Column("commissioned_on", sa.Date(), nullable=False),
        sa.Column("decommissioned_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_cameras")),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_network"), ["network"], unique=False)

    op.create_table(
        "deletion_receipts",
        sa.Column("receipt_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("charge_day", sa.Date(), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("held_back", sa.Integer(), nullable=False),
        sa.Column("deleted_ids_sha256", sa.String(length=64), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", name=op.f("pk_deletion_receipts")),
    )
    with op.batch_alter_table("deletion_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deletion_receipts_rule"), ["rule"], unique=False)

    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("charge_days", sa.JSON(), nullable=False),
        sa.Column("quarantine_by_reason", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingest_batches")),
    )
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_batches_source_sha256"), ["source_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ingest_batches_status"), ["status"], unique=False)

    op.create_table(
        "key_epochs",
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("key_file", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("epoch", name=op.f("pk_key_epochs")),
    )
    with op.batch_alter_table("key_epochs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_epochs_starts_on"), ["starts_on"], unique=False)

    op.create_table(
        "legal_holds",
        sa.Column("hold_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("hold_id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_is_active"), ["is_active"], unique=False)

    op.create_table(
        "store_operations",
        sa.Column("op_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("charge_day", sa.Date(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_store_operations")),
    )
    with op.batch_alter_table("store_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_operations_status"), ["status"], unique=False)

    op.create_table(
        "legal_hold_reads",
        sa.Column("hold_id", sa.String(length=40), nullable=False),
        sa.Column("read_id", sa.String(length=64), nullable=False),
        sa.Column("charge_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.hold_id"],
            name=op.f("fk_legal_hold_reads_hold_id_legal_holds"),
        ),
        sa.PrimaryKeyConstraint("hold_id", "read_id", name=op.f("pk_legal_hold_reads")),
    )
    with op.batch_alter_table("legal_hold_reads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_hold_reads_charge_day"), ["charge_day"], unique=False
        )

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("row_key", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("captured_at_text", sa.String(length=64), nullable=True),
        sa.Column("key_epoch", sa.Integer(), nullable=False),
        sa.Column("sealed_row", sa.LargeBinary(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batches.batch_id"],
            name=op.f("fk_quarantine_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint("row_key", name=op.f("uq_quarantine_row_key")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quarantine_reason"), ["reason"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quarantine_received_on"), ["received_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_received_on"))
        batch_op.drop_index(batch_op.f("ix_quarantine_reason"))
        batch_op.drop_index(batch_op.f("ix_quarantine_batch_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("legal_hold_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_hold_reads_charge_day"))

    op.drop_table("legal_hold_reads")
    with op.batch_alter_table("store_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_store_operations_status"))

    op.drop_table("store_operations")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_is_active"))

    op.drop_table("legal_holds")
    with op.batch_alter_table("key_epochs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_epochs_starts_on"))

    op.drop_table("key_epochs")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batches_status"))
        batch_op.drop_index(batch_op.f("ix_ingest_batches_source_sha256"))

    op.drop_table("ingest_batches")
    with op.batch_alter_table("deletion_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deletion_receipts_rule"))

    op.drop_table("deletion_receipts")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_network"))

    op.drop_table("cameras")
