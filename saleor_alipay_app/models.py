"""Every table of the app, gathered so that Alembic and the tests see one metadata."""

from __future__ import annotations

from sqlmodel import SQLModel

from saleor_alipay_app.agreements.service import ACCESS_TOKEN_PURPOSE, REFRESH_TOKEN_PURPOSE
from saleor_alipay_app.channels.service import PRIVATE_KEY_PURPOSE
from saleor_alipay_app.customs.models import (
    CERTIFICATE_NO_PURPOSE,
    HOLDER_NAME_PURPOSE,
    Declaration,
)
from saleor_alipay_app.installations.repository import TOKEN_PURPOSE, Installation
from saleor_alipay_app.payments.models import (
    Agreement,
    BindingSession,
    ChannelConfig,
    History,
    Notification,
    Payment,
    Refund,
    SaleorReport,
)
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
    "SaleorReport",
    "metadata",
]
