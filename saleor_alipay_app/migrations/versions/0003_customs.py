"""customs: declarations of paid Alipay CN payments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
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
        "declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("channel_config_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("payment_request_id", sa.String(length=64), nullable=False),
        sa.Column("antom_payment_id", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("declaration_request_id", sa.String(length=32), nullable=False),
        sa.Column("customs_code", sa.String(length=28), nullable=False),
        sa.Column("merchant_customs_code", sa.String(length=128), nullable=False),
        sa.Column("merchant_customs_name", sa.String(length=256), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=3), nullable=False),
        sa.Column("amount_minor", sa.Numeric(precision=20, scale=0), nullable=False),
        sa.Column("split_order", sa.Boolean(), nullable=False),
        sa.Column("suborder_id", sa.String(length=64), nullable=True),
        sa.Column("certificate_type", sa.String(length=16), nullable=False),
        sa.Column("certificate_no_encrypted", sa.Text(), nullable=False),
        sa.Column("holder_name_encrypted", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_code", sa.String(length=64), nullable=True),
        sa.Column("result_message", sa.String(length=256), nullable=True),
        sa.Column("customs_payment_id", sa.String(length=64), nullable=True),
        sa.Column("customs_order_id", sa.String(length=64), nullable=True),
        sa.Column("identity_check_result", sa.String(length=32), nullable=True),
        sa.Column("clearing_channel", sa.String(length=16), nullable=True),
        sa.Column("clearing_transaction_id", sa.String(length=64), nullable=True),
        sa.Column("customs_provider_registration_id", sa.String(length=64), nullable=True),
        sa.Column("antom_status", sa.String(length=32), nullable=True),
        sa.Column("customs_result_code", sa.String(length=16), nullable=True),
        sa.Column("customs_result_desc", sa.String(length=256), nullable=True),
        sa.Column("customs_return_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_call_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_inquiry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_config_id"], ["channel_config.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["installation_id"], ["installation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("declaration_request_id"),
        sa.UniqueConstraint("payment_id", "sequence"),
    )
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_payment_request_id"), ["payment_request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_declaration_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_status"))
        batch_op.drop_index(batch_op.f("ix_declaration_payment_request_id"))

    op.drop_table("declaration")
