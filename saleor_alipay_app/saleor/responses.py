"""Saleor's webhook response contracts (APP-PROTOCOL.md §4), built so that optional keys that
have no value are left out (Saleor's JSON Schemas refuse `null` for them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class SessionResult(StrEnum):
    CHARGE_SUCCESS = "CHARGE_SUCCESS"
    CHARGE_FAILURE = "CHARGE_FAILURE"
    CHARGE_REQUEST = "CHARGE_REQUEST"
    CHARGE_ACTION_REQUIRED = "CHARGE_ACTION_REQUIRED"


class ActionResult(StrEnum):
    CHARGE_SUCCESS = "CHARGE_SUCCESS"
    CHARGE_FAILURE = "CHARGE_FAILURE"
    REFUND_SUCCESS = "REFUND_SUCCESS"
    REFUND_FAILURE = "REFUND_FAILURE"
    CANCEL_SUCCESS = "CANCEL_SUCCESS"
    CANCEL_FAILURE = "CANCEL_FAILURE"
    ASYNC = "ASYNC"  # accepted; the outcome follows through transactionEventReport


class TokenizationResult(StrEnum):
    SUCCESSFULLY_TOKENIZED = "SUCCESSFULLY_TOKENIZED"
    ADDITIONAL_ACTION_REQUIRED = "ADDITIONAL_ACTION_REQUIRED"
    PENDING = "PENDING"
    FAILED_TO_TOKENIZE = "FAILED_TO_TOKENIZE"


def money(value: Decimal) -> str:
    """Amounts go back to Saleor as decimal strings (never floats)."""
    return format(value, "f")


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value


@dataclass(frozen=True)
class SessionResponse:
    """The answer to TRANSACTION_INITIALIZE_SESSION / TRANSACTION_PROCESS_SESSION."""

    result: SessionResult
    psp_reference: str | None = None
    amount: Decimal | None = None
    message: str | None = None
    data: Any = None
    actions: Sequence[str] | None = None
    payment_method_name: str | None = None
    external_url: str | None = None

    def body(self, *, saleor_version: tuple[int, int] = (3, 21)) -> dict[str, Any]:
        if self.result in (SessionResult.CHARGE_SUCCESS, SessionResult.CHARGE_REQUEST):
            assert self.psp_reference, "pspReference is required for success and request"
        body: dict[str, Any] = {"result": self.result.value}
        _put(body, "pspReference", self.psp_reference)
        _put(body, "amount", money(self.amount) if self.amount is not None else None)
        _put(body, "message", self.message[:512] if self.message else None)
        _put(body, "data", self.data)
        _put(body, "actions", list(self.actions) if self.actions is not None else None)
        _put(body, "externalUrl", self.external_url or None)
        if self.payment_method_name and saleor_version >= (3, 22):
            body["paymentMethodDetails"] = {"type": "OTHER", "name": self.payment_method_name[:256]}
        return body


@dataclass(frozen=True)
class ActionResponse:
    """The answer to TRANSACTION_CHARGE/REFUND/CANCELATION_REQUESTED: sync or async form."""

    result: ActionResult
    psp_reference: str | None = None
    amount: Decimal | None = None
    message: str | None = None
    actions: Sequence[str] | None = None

    def body(self) -> dict[str, Any]:
        if self.result is ActionResult.ASYNC:
            assert self.psp_reference, "the async form needs a pspReference"
            body: dict[str, Any] = {"pspReference": self.psp_reference}
            _put(body, "actions", list(self.actions) if self.actions is not None else None)
            return body
        if self.result.value.endswith("_SUCCESS"):
            assert self.psp_reference, "pspReference is required for a sync success"
        body = {"result": self.result.value}
        _put(body, "pspReference", self.psp_reference)
        _put(body, "amount", money(self.amount) if self.amount is not None else None)
        _put(body, "message", self.message[:512] if self.message else None)
        _put(body, "actions", list(self.actions) if self.actions is not None else None)
        return body


@dataclass(frozen=True)
class TokenizationResponse:
    result: TokenizationResult
    id: str | None = None
    data: Any = None
    error: str | None = None

    def body(self) -> dict[str, Any]:
        if self.result in (
            TokenizationResult.SUCCESSFULLY_TOKENIZED,
            TokenizationResult.ADDITIONAL_ACTION_REQUIRED,
        ):
            assert self.id, f"{self.result} needs an id"
        body: dict[str, Any] = {"result": self.result.value}
        _put(body, "id", self.id)
        if self.result is not TokenizationResult.FAILED_TO_TOKENIZE:
            _put(body, "data", self.data)
        _put(body, "error", self.error)
        return body


@dataclass(frozen=True)
class StoredPaymentMethod:
    id: str
    type: str
    name: str | None = None
    data: Any = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "supportedPaymentFlows": ["INTERACTIVE"],
        }
        _put(body, "name", self.name)
        _put(body, "data", self.data)
        return body


@dataclass(frozen=True)
class StoredPaymentMethods:
    methods: list[StoredPaymentMethod] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"paymentMethods": [m.body() for m in self.methods]}


def delete_response(ok: bool, error: str | None = None) -> dict[str, Any]:
    if ok:
        return {"result": "SUCCESSFULLY_DELETED"}
    body: dict[str, Any] = {"result": "FAILED_TO_DELETE"}
    _put(body, "error", error)
    return body


def gateway_tokenization_response(data: Any = None, error: str | None = None) -> dict[str, Any]:
    if error is not None:
        return {"result": "FAILED_TO_INITIALIZE", "error": error}
    body: dict[str, Any] = {"result": "SUCCESSFULLY_INITIALIZED"}
    _put(body, "data", data)
    return body
