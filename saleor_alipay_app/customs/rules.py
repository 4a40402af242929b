"""What Antom accepts in a customs declaration (API.md §7.12), checked before anything is sent:
the customs codes, the merchant's registration, the amount (more than zero, and no more than
what was paid minus what is refunded and already declared), a split declaration's suborderId and
the buyer's identity. A refusal raises :class:`~saleor_alipay_app.errors.Invalid` (HTTP 400)
with a machine code and what to fix.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.customs.models import Declaration, DeclarationStatus
from saleor_alipay_app.customs.schemas import BuyerIdentity, DeclarationInput, amount_text
from saleor_alipay_app.errors import Invalid

# The customs authorities API.md §7.12 names; any other code is refused before calling Antom.
KNOWN_CUSTOMS_CODES: Final = ("ZONGSHU", "ZHENGZHOU", "NINGBO", "SHANGHAI_CBT", "HENAN")
CERTIFICATE_TYPES: Final = ("ID_CARD", "PASSPORT")
CUSTOMS_CURRENCY: Final = "CNY"
MAX_SEQUENCE: Final = 9999
_CHINESE_ID = re.compile(r"^[0-9]{17}[0-9X]$")


def declaration_request_id(payment_request_id: str, sequence: int) -> str:
    """Deterministic from the payment and the declaration's number: ``saa<24 hex>d<n>``."""
    digest = hashlib.sha256(payment_request_id.encode()).hexdigest()[:24]
    value = f"saa{digest}d{sequence}"
    assert 1 <= len(value) <= 32
    return value


def check_text(value: str | None, what: str, max_len: int) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid("MISSING_FIELD", f"{what} is required")
    if len(text) > max_len:
        raise Invalid("INVALID_FIELD", f"{what} is longer than {max_len} characters")
    return text


def check_customs_code(value: str | None) -> str:
    code = check_text(value, "customsCode", 28).upper()
    if code not in KNOWN_CUSTOMS_CODES:
        raise Invalid(
            "UNKNOWN_CUSTOMS_CODE",
            f"unknown customs code {code!r}: use one of {', '.join(KNOWN_CUSTOMS_CODES)}",
        )
    return code


def check_amount(value: Decimal | str | None) -> Amount:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid("MISSING_FIELD", "amount is required")
    try:
        amount = Amount.from_decimal(
            value.strip() if isinstance(value, str) else value, CUSTOMS_CURRENCY
        )
    except AmountError as exc:
        raise Invalid("INVALID_AMOUNT", f"amount: {exc}") from None
    if amount.value <= 0:
        raise Invalid("INVALID_AMOUNT", "the declared amount must be more than zero")
    return amount


def check_certificate_no(certificate_type: str, value: str | None) -> str:
    number = check_text(value, "buyer.certificateNo", 64).upper()
    if certificate_type == "ID_CARD" and not _CHINESE_ID.match(number):
        raise Invalid(
            "INVALID_FIELD",
            "buyer.certificateNo: a resident ID card number has 18 characters "
            "(17 digits and a digit or X)",
        )
    return number


def _buyer(buyer: BuyerIdentity | None) -> BuyerIdentity:
    if buyer is None:
        raise Invalid(
            "MISSING_BUYER_IDENTITY",
            "the buyer's identity is required: certificateType (ID_CARD or PASSPORT), "
            "certificateNo and holderName",
        )
    kind = (buyer.certificate_type or "").strip().upper()
    if not kind:
        raise Invalid("MISSING_BUYER_IDENTITY", "buyer.certificateType is required")
    if kind not in CERTIFICATE_TYPES:
        raise Invalid("INVALID_FIELD", "buyer.certificateType must be ID_CARD or PASSPORT")
    return BuyerIdentity(
        certificate_type=kind,
        certificate_no=check_certificate_no(kind, buyer.certificate_no),
        holder_name=check_text(buyer.holder_name, "buyer.holderName", 128),
    )


def split_only() -> Invalid:
    return Invalid("INVALID_FIELD", "suborderId is only for split declarations (splitOrder true)")


def _suborder(split_order: bool, suborder_id: str | None) -> str | None:
    if split_order:
        return check_text(suborder_id, "suborderId (needed for a split declaration)", 64)
    if suborder_id is not None and suborder_id.strip():
        raise split_only()
    return None


@dataclass(frozen=True)
class Checked:
    """A declaration's input once every rule that needs no database holds."""

    customs_code: str
    merchant_customs_code: str
    merchant_customs_name: str
    amount: Amount
    split_order: bool
    suborder_id: str | None
    buyer: BuyerIdentity


def check_input(data: DeclarationInput) -> Checked:
    """Validate everything that needs no database; raises :class:`Invalid`."""
    return Checked(
        customs_code=check_customs_code(data.customs_code),
        merchant_customs_code=check_text(data.merchant_customs_code, "merchantCustomsCode", 128),
        merchant_customs_name=check_text(data.merchant_customs_name, "merchantCustomsName", 256),
        amount=check_amount(data.amount),
        split_order=bool(data.split_order),
        suborder_id=_suborder(bool(data.split_order), data.suborder_id),
        buyer=_buyer(data.buyer),
    )


def cny(minor: int) -> str:
    return amount_text(CUSTOMS_CURRENCY, minor)


def check_fits(
    declarations: Sequence[Declaration],
    *,
    paid_minor: int,
    refunded_minor: int,
    amount: Amount,
    exclude_id: int | None = None,
) -> None:
    """The amount fits in what was paid, less what is refunded and declared (FAILED aside)."""
    declared = sum(
        int(d.amount_minor)
        for d in declarations
        if d.status is not DeclarationStatus.FAILED and d.id != exclude_id
    )
    available = paid_minor - refunded_minor - declared
    if amount.value > available:
        raise Invalid(
            "AMOUNT_EXCEEDS_PAID",
            f"CNY {amount.to_decimal()} is more than can still be declared: paid "
            f"{cny(paid_minor)}, refunded {cny(refunded_minor)}, already declared "
            f"{cny(declared)}, so at most {cny(max(available, 0))}",
        )
