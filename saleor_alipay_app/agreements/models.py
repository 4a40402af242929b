"""Tables of agreements (bound wallets, Saleor's stored payment methods) and binding sessions
(QR codes), with their statuses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import (
    JSONText,
    StrEnumType,
    UTCDateTime,
    created_at_field,
    foreign_key,
)


class AgreementStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"  # ended by us (shopper, staff or guest cleanup)
    INVALID = "INVALID"  # Antom said INVALID_ACCESS_TOKEN or TOKEN_CANCELED
    EXPIRED = "EXPIRED"  # refresh token expired

    @classmethod
    def final_statuses(cls) -> frozenset[AgreementStatus]:
        """Statuses that never change again."""
        return frozenset({cls.REVOKED, cls.INVALID, cls.EXPIRED})

    @classmethod
    def open_statuses(cls) -> frozenset[AgreementStatus]:
        """Statuses that can still change."""
        return frozenset({cls.ACTIVE})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


class BindingPurpose(StrEnum):
    TRANSACTION = "TRANSACTION"  # bind, then pay a Saleor transaction
    TOKENIZATION = "TOKENIZATION"  # bind only (save a wallet from the account page)


class BindingStatus(StrEnum):
    PENDING = "PENDING"  # QR code shown, waiting for the shopper
    AUTHORIZED = "AUTHORIZED"  # auth code received, token exchange under way
    BOUND = "BOUND"  # agreement stored
    FAILED = "FAILED"  # declined, code refused, or token exchange failed
    EXPIRED = "EXPIRED"  # QR code expired without authorization

    @classmethod
    def final_statuses(cls) -> frozenset[BindingStatus]:
        """Statuses that never change again."""
        return frozenset({cls.BOUND, cls.FAILED, cls.EXPIRED})

    @classmethod
    def open_statuses(cls) -> frozenset[BindingStatus]:
        """Statuses that can still change."""
        return frozenset({cls.PENDING, cls.AUTHORIZED})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


class Agreement(SQLModel, table=True):
    """A bound wallet (a Saleor stored payment method): Antom's access token for one shopper."""

    __tablename__ = "agreement"
    __table_args__ = (
        # The Overview's counts per status, with the expiring ones, read from the index alone.
        Index(
            "ix_agreement_overview",
            "installation_id",
            "status",
            "refresh_token_expires_at",
            "access_token_expires_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    installation_id: int = foreign_key("installation.id")
    channel_config_id: int = foreign_key("channel_config.id")
    channel_slug: str = Field(max_length=255)
    saleor_user_id: str | None = Field(default=None, max_length=255, index=True)
    customer_email: str | None = Field(default=None, max_length=320)
    guest: bool = Field(sa_column=Column(Boolean, nullable=False))
    wallet: str = Field(max_length=64)
    access_token_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    # SHA-256 of the access token: finds the agreement named by a TOKEN_CANCELED notification.
    access_token_sha256: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    access_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    refresh_token_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    refresh_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    user_login_id: str | None = Field(default=None, max_length=128)
    status: AgreementStatus = Field(
        sa_column=Column(StrEnumType(AgreementStatus, 16), nullable=False, index=True)
    )
    status_reason: str | None = Field(default=None, max_length=256)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class BindingSession(SQLModel, table=True):
    """One QR code: Antom's `authState`, what it is for, and where it stands."""

    __tablename__ = "binding_session"

    id: int | None = Field(default=None, primary_key=True)
    auth_state: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    installation_id: int = foreign_key("installation.id")
    channel_config_id: int = foreign_key("channel_config.id")
    channel_slug: str = Field(max_length=255)
    purpose: BindingPurpose = Field(
        sa_column=Column(StrEnumType(BindingPurpose, 16), nullable=False)
    )
    saleor_user_id: str | None = Field(default=None, max_length=255)
    customer_email: str | None = Field(default=None, max_length=320)
    saleor_transaction_id: str | None = Field(default=None, max_length=255, index=True)
    wallet: str = Field(max_length=64)
    qr_code_value: str = Field(sa_column=Column(Text, nullable=False))
    auth_urls: dict[str, str] = Field(sa_column=Column(JSONText, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: BindingStatus = Field(sa_column=Column(StrEnumType(BindingStatus, 16), nullable=False))
    failure_reason: str | None = Field(default=None, max_length=256)
    agreement_id: int | None = foreign_key("agreement.id", nullable=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
