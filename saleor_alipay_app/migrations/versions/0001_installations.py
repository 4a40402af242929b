"""installations: the auth store of Saleor instances that installed the app

Revision ID: 0001
Revises:
Create Date: 2026-11-26
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
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("saleor_domain", sa.String(length=255), nullable=True),
        sa.Column("app_id", sa.String(length=255), nullable=False),
        sa.Column("app_token_encrypted", sa.String(length=1024), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=True),
        sa.Column("jwks_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("saleor_api_url"),
    )


def downgrade() -> None:
    op.drop_table("installation")
