"""indexes of the Overview page: payments, refunds, reports and agreements per installation

Covering indexes, so that the Overview's aggregates read an index range and never the table
(bench/overview.py; the EXPLAIN plans before and after are in bench/README.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_overview",
            [
                "installation_id",
                "created_at",
                "status",
                "wallet",
                "currency",
                "result_code",
                "amount",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_payment_status_since", ["status", "installation_id", "created_at"], unique=False
        )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(
            "ix_refund_overview",
            ["installation_id", "created_at", "status", "currency", "amount"],
            unique=False,
        )
        batch_op.create_index(
            "ix_refund_status_since", ["status", "installation_id", "created_at"], unique=False
        )
    with op.batch_alter_table("saleor_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_saleor_report_status_since",
            ["status", "installation_id", "created_at"],
            unique=False,
        )
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agreement_overview",
            ["installation_id", "status", "refresh_token_expires_at", "access_token_expires_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_overview")
    with op.batch_alter_table("saleor_report", schema=None) as batch_op:
        batch_op.drop_index("ix_saleor_report_status_since")
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index("ix_refund_status_since")
        batch_op.drop_index("ix_refund_overview")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_status_since")
        batch_op.drop_index("ix_payment_overview")
