"""Typed views of Saleor's webhook payloads (the shapes our subscription documents select).

Payloads are parsed with `json.loads(..., parse_float=Decimal)` before they get here, so money
stays exact; models ignore keys they do not name, and a missing required key is a
`ValidationError` the HTTP edge turns into a clear refusal.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# Far beyond any amount Saleor sends (its amounts have at most 12 integer digits); a number past
# it is refused here rather than overflowing a quantize later.
_MAX_MAGNITUDE = 30
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _decimal(value: Any) -> Decimal:
    """An amount as an exact, finite, sane Decimal; anything else is a ValueError (a clear 400),
    never a `decimal.InvalidOperation` escaping as a 500."""
    if isinstance(value, float):
        raise ValueError("amounts must be parsed as Decimal, never float")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValueError("amount must be a number")
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        # Decimal() alone would take "1_000", " 7 " and "Infinity"; JSON's number syntax only.
        raise ValueError("amount is not a decimal number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError("amount is not a decimal number") from None
    if not number.is_finite():
        raise ValueError("amount must be a finite number")
    if number and abs(number.adjusted()) > _MAX_MAGNITUDE:
        raise ValueError("amount is out of range")
    return number


class Ref(_Model):
    id: str


class Channel(_Model):
    id: str
    slug: str
    currency_code: str | None = Field(default=None, alias="currencyCode")


class Customer(_Model):
    id: str
    email: str | None = None


class Money(_Model):
    amount: Decimal
    currency: str

    _amount = field_validator("amount", mode="before")(_decimal)


class SourceObject(_Model):
    typename: str = Field(alias="__typename")
    id: str
    channel: Channel
    user: Customer | None = None
    email: str | None = None
    user_email: str | None = Field(default=None, alias="userEmail")

    @property
    def customer_email(self) -> str | None:
        if self.user is not None and self.user.email:
            return self.user.email
        return self.email or self.user_email


class SessionAction(_Model):
    amount: Decimal
    currency: str
    action_type: str = Field(alias="actionType")

    _amount = field_validator("amount", mode="before")(_decimal)


class SessionTransaction(_Model):
    id: str
    token: str | None = None
    psp_reference: str | None = Field(default=None, alias="pspReference")


class _Event(_Model):
    version: str | None = None
    issued_at: str | None = Field(default=None, alias="issuedAt")
    recipient: Ref


class PaymentGatewayInitializeSession(_Event):
    amount: Decimal | None = None
    data: Any = None
    source_object: SourceObject = Field(alias="sourceObject")

    _amount = field_validator("amount", mode="before")(_decimal)


class TransactionSession(_Event):
    """TRANSACTION_INITIALIZE_SESSION and TRANSACTION_PROCESS_SESSION."""

    action: SessionAction
    data: Any = None
    merchant_reference: str | None = Field(default=None, alias="merchantReference")
    idempotency_key: str | None = Field(default=None, alias="idempotencyKey")
    customer_ip_address: str | None = Field(default=None, alias="customerIpAddress")
    transaction: SessionTransaction
    source_object: SourceObject = Field(alias="sourceObject")


class TransactionAction(_Model):
    action_type: str = Field(alias="actionType")
    amount: Decimal
    currency: str

    _amount = field_validator("amount", mode="before")(_decimal)


class ActionTransaction(_Model):
    id: str
    token: str | None = None
    psp_reference: str | None = Field(default=None, alias="pspReference")
    charged_amount: Money | None = Field(default=None, alias="chargedAmount")
    refunded_amount: Money | None = Field(default=None, alias="refundedAmount")
    checkout: Ref | None = None
    order: Ref | None = None


class TransactionActionRequest(_Event):
    """TRANSACTION_CHARGE_REQUESTED, _REFUND_REQUESTED and _CANCELATION_REQUESTED."""

    action: TransactionAction
    transaction: ActionTransaction
    granted_refund: Ref | None = Field(default=None, alias="grantedRefund")


class UserChannelEvent(_Event):
    """LIST_STORED_PAYMENT_METHODS, the delete request and the three tokenization events."""

    user: Customer
    channel: Channel
    data: Any = None
    payment_method_id: str | None = Field(default=None, alias="paymentMethodId")
    id: str | None = None
    payment_flow_to_support: str | None = Field(default=None, alias="paymentFlowToSupport")
