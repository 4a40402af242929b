"""The table of Antom configurations, one per Saleor channel of an installation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import (
    JSONText,
    created_at_field,
    foreign_key,
)


class ChannelConfig(SQLModel, table=True):
    """Antom credentials of one Saleor channel of one installation."""

    __tablename__ = "channel_config"
    __table_args__ = (UniqueConstraint("installation_id", "channel_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = foreign_key("installation.id")
    channel_slug: str = Field(max_length=255)
    # Public, random: names the configuration in Antom notification URLs.
    public_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    client_id: str = Field(max_length=128)
    merchant_private_key_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    antom_public_key: str = Field(sa_column=Column(Text, nullable=False))
    region: str = Field(max_length=32)
    base_url: str = Field(max_length=512)
    sandbox: bool = Field(sa_column=Column(Boolean, nullable=False))
    enabled_wallets: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
