"""What people send and see of customs declarations: the inputs of a declaration and of a
re-declaration, and a declaration as the admin API and the CLI show it (JSON shapes, amounts as
decimal strings, the buyer's identity masked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.channels.service import mask
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.customs.models import (
    CERTIFICATE_NO_PURPOSE,
    HOLDER_NAME_PURPOSE,
    RESEND_PAUSE,
    Declaration,
)
from saleor_alipay_app.history.models import History

# -- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuyerIdentity:
    certificate_type: str
    certificate_no: str
    holder_name: str


@dataclass(frozen=True)
class DeclarationInput:
    customs_code: str
    merchant_customs_code: str
    merchant_customs_name: str
    amount: Decimal | str
    buyer: BuyerIdentity | None
    split_order: bool = False
    suborder_id: str | None = None


@dataclass(frozen=True)
class Redeclaration:
    """What a re-declaration may change (API.md §7.12); None keeps the current value."""

    customs_code: str | None = None
    merchant_customs_code: str | None = None
    merchant_customs_name: str | None = None
    amount: Decimal | str | None = None
    suborder_id: str | None = None
    certificate_no: str | None = None
    holder_name: str | None = None


# -- views ------------------------------------------------------------------------------------


def amount_text(currency: str, minor: int) -> str:
    """Minor units as a decimal string in the currency's digits (``60.00``)."""
    return str(Amount(currency, minor).to_decimal())


def describe(row: Declaration) -> dict[str, Any]:
    """A declaration as the admin API and the CLI show it."""
    return {
        "id": row.id,
        "declarationRequestId": row.declaration_request_id,
        "paymentRequestId": row.payment_request_id,
        "customsCode": row.customs_code,
        "amount": amount_text(row.currency, int(row.amount_minor)),
        "currency": row.currency,
        "status": row.status.value,
        "splitOrder": row.split_order,
        "suborderId": row.suborder_id,
        "merchantCustomsCode": row.merchant_customs_code,
        "merchantCustomsName": row.merchant_customs_name,
        "resultCode": row.result_code,
        "resultMessage": row.result_message,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
    }


def describe_detail(row: Declaration, history: Sequence[History], keys: KeyRing) -> dict[str, Any]:
    """A declaration with its masked buyer, its history and what Antom reported."""
    item = describe(row)
    certificate_no = keys.decrypt(row.certificate_no_encrypted, CERTIFICATE_NO_PURPOSE)
    holder_name = keys.decrypt(row.holder_name_encrypted, HOLDER_NAME_PURPOSE)
    item["buyer"] = {
        "certificateType": row.certificate_type,
        "certificateNo": mask(certificate_no),
        "holderName": holder_name[:1] + "*" * max(len(holder_name) - 1, 0),
    }
    item["lastCallAt"] = row.last_call_at.isoformat()
    item["redeclareAfter"] = (row.last_call_at + RESEND_PAUSE).isoformat()
    item["history"] = [
        {"status": h.status, "detail": h.detail, "createdAt": h.created_at.isoformat()}
        for h in history
    ]
    antom: dict[str, Any] = {
        "customsPaymentId": row.customs_payment_id,
        "customsOrderId": row.customs_order_id,
        "identityCheckResult": row.identity_check_result,
        "clearingChannel": row.clearing_channel,
        "clearingTransactionId": row.clearing_transaction_id,
        "customsProviderRegistrationId": row.customs_provider_registration_id,
        "declarationRequestStatus": row.antom_status,
        "customsDeclarationResultCode": row.customs_result_code,
        "customsDeclarationResultDesc": row.customs_result_desc,
        "customsDeclarationReturnTime": (
            row.customs_return_time.isoformat() if row.customs_return_time else None
        ),
    }
    item["antom"] = {k: v for k, v in antom.items() if v is not None}
    return item
