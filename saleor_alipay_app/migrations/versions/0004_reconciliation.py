"""reconciliation: days, imported report files, their rows, settlement summaries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
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
        "reconciliation_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("missing_here", sa.Integer(), nullable=False),
        sa.Column("missing_at_antom", sa.Integer(), nullable=False),
        sa.Column("mismatched", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.Column("currencies", sa.Text(), nullable=False),
        sa.Column("has_transaction_report", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["installation_id"], ["installation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("installation_id", "day"),
    )
    op.create_table(
        "reconciliation_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["day_id"], ["reconciliation_day.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["installation_id"], ["installation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("installation_id", "sha256"),
    )
    op.create_table(
        "reconciliation_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=24), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("transaction_request_id", sa.String(length=64), nullable=True),
        sa.Column("transaction_type", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("settlement_batch_id", sa.String(length=64), nullable=True),
        sa.Column("settlement_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("settlement_currency", sa.String(length=3), nullable=True),
        sa.Column("fee_minor", sa.BigInteger(), nullable=True),
        sa.Column("fee_currency", sa.String(length=3), nullable=True),
        sa.Column("transaction_time", sa.String(length=40), nullable=True),
        sa.Column("our_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("our_currency", sa.String(length=3), nullable=True),
        sa.Column("our_status", sa.String(length=24), nullable=True),
        sa.Column("detail", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(["day_id"], ["reconciliation_day.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["file_id"], ["reconciliation_file.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["installation_id"], ["installation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reconciliation_row", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_row_day_kind", ["day_id", "kind"], unique=False)
        batch_op.create_index(
            "ix_reconciliation_row_request",
            ["installation_id", "transaction_request_id"],
            unique=False,
        )

    op.create_table(
        "reconciliation_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("settlement_batch_id", sa.String(length=64), nullable=False),
        sa.Column("summary_type", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("settlement_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("settlement_currency", sa.String(length=3), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=True),
        sa.Column("fee_currency", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(["day_id"], ["reconciliation_day.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["file_id"], ["reconciliation_file.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["installation_id"], ["installation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_summary")
    with op.batch_alter_table("reconciliation_row", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_row_request")
        batch_op.drop_index("ix_reconciliation_row_day_kind")

    op.drop_table("reconciliation_row")
    op.drop_table("reconciliation_file")
    op.drop_table("reconciliation_day")
