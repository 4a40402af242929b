"""The installation table: one row per Saleor instance that installed the app (Saleor's "APL"). The
app token is encrypted at rest; the JWKS is cached here so that webhook verification does not
fetch it on every delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import JSONText, UTCDateTime, utcnow

TOKEN_PURPOSE = "installation.app_token"  # noqa: S105 - a label, not a secret


class Installation(SQLModel, table=True):
    __tablename__ = "installation"

    id: int | None = Field(default=None, primary_key=True)
    saleor_api_url: str = Field(sa_column=Column(String(2048), unique=True, nullable=False))
    saleor_domain: str | None = Field(default=None, max_length=255)
    app_id: str = Field(max_length=255)
    app_token_encrypted: str = Field(sa_column=Column(String(1024), nullable=False))
    # The app's base URL as Saleor reached it at installation (APP_URL, or the register
    # request's own): what `configure` prints Antom's notification URLs with.
    app_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    # The Saleor it serves, as "major.minor": from the token request's Saleor-Schema-Version and
    # each webhook's `version` (what reports may send depends on it).
    saleor_version: str | None = Field(default=None, max_length=16)
    jwks: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONText))
    jwks_fetched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    installed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    def app_token(self, keys: KeyRing) -> str:
        return keys.decrypt(self.app_token_encrypted, TOKEN_PURPOSE)
