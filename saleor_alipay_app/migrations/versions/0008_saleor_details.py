"""What the app tells Saleor beside an outcome, and where a payment belongs in Saleor

- installation.saleor_version: the Saleor it serves ("3.21"), from the token request's
  Saleor-Schema-Version and each webhook's `version`; reports use `paymentMethodDetails` from 3.22.
- saleor_report.transaction_name / payment_method_name: the transaction's name ("Alipay+
  AlipayHK") and the payment method Saleor shows, sent with the report.
- payment.saleor_checkout_id / saleor_order_id: the checkout or order the transaction was started
  on, the order also when Saleor names it later: the dashboard links to the order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("saleor_version", sa.String(length=16), nullable=True))
    with op.batch_alter_table("saleor_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transaction_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("payment_method_name", sa.String(length=256), nullable=True))
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("saleor_checkout_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("saleor_order_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("saleor_order_id")
        batch_op.drop_column("saleor_checkout_id")
    with op.batch_alter_table("saleor_report", schema=None) as batch_op:
        batch_op.drop_column("payment_method_name")
        batch_op.drop_column("transaction_name")
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_column("saleor_version")
