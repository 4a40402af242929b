"""Every table of the app, gathered so that Alembic and the tests see one metadata, and the
re-encryption of every secret column under a new key (`rotate-key`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import SQLModel

from saleor_alipay_app.agreements.models import Agreement, BindingSession
from saleor_alipay_app.agreements.service import ACCESS_TOKEN_PURPOSE, REFRESH_TOKEN_PURPOSE
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.service import PRIVATE_KEY_PURPOSE
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import KeyRing, load_key_ring
from saleor_alipay_app.customs.models import (
    CERTIFICATE_NO_PURPOSE,
    HOLDER_NAME_PURPOSE,
    Declaration,
)
from saleor_alipay_app.db import create_engine, session_factory, transaction
from saleor_alipay_app.history.models import History
from saleor_alipay_app.installations.models import TOKEN_PURPOSE, Installation
from saleor_alipay_app.payments.models import Notification, Payment, Refund, SaleorReport
from saleor_alipay_app.payments.notifications import NOTIFICATION_BODY_PURPOSE
from saleor_alipay_app.reconciliation.models import (
    ReconciliationDay,
    ReconciliationFile,
    ReconciliationRow,
    ReconciliationSummary,
)

metadata = SQLModel.metadata

# Every encrypted column: (model, attribute, purpose bound into the ciphertext).
ENCRYPTED_COLUMNS: list[tuple[type[SQLModel], str, str]] = [
    (Installation, "app_token_encrypted", TOKEN_PURPOSE),
    (ChannelConfig, "merchant_private_key_encrypted", PRIVATE_KEY_PURPOSE),
    (Agreement, "access_token_encrypted", ACCESS_TOKEN_PURPOSE),
    (Agreement, "refresh_token_encrypted", REFRESH_TOKEN_PURPOSE),
    (Notification, "body_encrypted", NOTIFICATION_BODY_PURPOSE),
    (Declaration, "certificate_no_encrypted", CERTIFICATE_NO_PURPOSE),
    (Declaration, "holder_name_encrypted", HOLDER_NAME_PURPOSE),
]


@dataclass(frozen=True)
class RotationReport:
    new_key_id: str
    rewritten: int
    already_current: int


async def rotate_key(settings: Settings, new_key: str) -> RotationReport:
    """Re-encrypt every secret column with ``new_key`` in one transaction.

    Values are read with the current key ring (ENCRYPTION_KEY and ENCRYPTION_OLD_KEYS). Either
    every value moves to the new key or, on any error, none does.
    """
    old_ring = load_key_ring(settings)
    new_ring = KeyRing(new_key)
    engine = create_engine(settings)
    rewritten = already = 0
    try:
        async with transaction(session_factory(engine)) as session:
            for model, attribute, purpose in ENCRYPTED_COLUMNS:
                rows = (await session.execute(select(model))).scalars().all()
                for row in rows:
                    value = getattr(row, attribute)
                    if value is None or value == "":
                        continue
                    if not new_ring.needs_rotation(value):
                        already += 1
                        continue
                    plain = old_ring.decrypt(value, purpose)
                    setattr(row, attribute, new_ring.encrypt(plain, purpose))
                    session.add(row)
                    rewritten += 1
    finally:
        await engine.dispose()
    return RotationReport(new_ring.current_key_id, rewritten, already)


__all__ = [
    "ENCRYPTED_COLUMNS",
    "Agreement",
    "BindingSession",
    "ChannelConfig",
    "Declaration",
    "History",
    "Installation",
    "Notification",
    "Payment",
    "ReconciliationDay",
    "ReconciliationFile",
    "ReconciliationRow",
    "ReconciliationSummary",
    "Refund",
    "RotationReport",
    "SaleorReport",
    "metadata",
    "rotate_key",
]
