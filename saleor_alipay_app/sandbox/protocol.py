"""Antom's wire conventions on the sandbox side: result objects, failures, request fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal

from saleor_alipay_app import jsontext
from saleor_alipay_app.antom.money import Amount, AmountError

__all__ = [
    "ACK_BODY",
    "AntomFailure",
    "Body",
    "dump_json",
    "mask_login_id",
    "parse_body",
    "result",
]

ResultStatus = Literal["S", "F", "U"]

# The only acknowledgement Antom accepts for a notification (API.md §9).
ACK_BODY: Final[dict[str, Any]] = {
    "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
}

_MESSAGES: Final[Mapping[str, str]] = {
    "SUCCESS": "Success",
    "ACCESS_DENIED": "Access is denied.",
    "ARRAY_SIZE_EXCEEDED": "The number of array elements exceeds the limit.",
    "AUTH_IN_PROCESS": "The authorization is being processed.",
    "CANCEL_WINDOW_EXCEED": "The cancellation window has passed; use refund instead.",
    "CONTEXT_INCONSISTENT": "The re-sent declaration changes fields that may not change, or "
    "comes less than 5 minutes after the previous call.",
    "CURRENCY_NOT_SUPPORT": "The currency is not supported.",
    "DUPLICATED_DECLARATIONS": "The payment has already been declared to this customs.",
    "INVALID_ACCESS_TOKEN": "The access token is expired, revoked, or does not exist.",
    "INVALID_AUTHCODE": "The authorization code is invalid, used or expired.",
    "INVALID_REFRESH_TOKEN": "The refresh token is expired, revoked, or does not exist.",
    "INVALID_SIGNATURE": "The signature is not validated.",
    "KEY_NOT_FOUND": "The key is not found.",
    "MERCHANT_BALANCE_NOT_ENOUGH": "The merchant's unsettled balance is not enough.",
    "MULTIPLE_REFUNDS_NOT_SUPPORTED": "Multiple refunds are not supported.",
    "NO_INTERFACE_DEF": "The API is not defined.",
    "NO_PAY_OPTIONS": "The payment method is not available for this merchant.",
    "ORDER_IS_CANCELED": "The payment has been cancelled.",
    "ORDER_IS_CLOSED": "The payment has been closed.",
    "ORDER_NOT_EXIST": "The order does not exist.",
    "ORDER_STATUS_INVALID": "The order status is invalid for this operation.",
    "PARAM_ILLEGAL": "Illegal parameters.",
    "PARTIAL_REFUND_NOT_SUPPORTED": "Partial refunds are not supported.",
    "PAYMENT_AMOUNT_EXCEED_LIMIT": "The payment amount exceeds the limit.",
    "PAYMENT_IN_PROCESS": "The payment is being processed.",
    "PROCESS_FAIL": "A general business failure occurred. Do not retry.",
    "REFUND_AMOUNT_EXCEED": "The total refund amount exceeds the payment amount.",
    "REFUND_IN_PROCESS": "The refund is being processed.",
    "REFUND_WINDOW_EXCEED": "The refund window has passed.",
    "REPEAT_REQ_INCONSISTENT": "The repeated request is inconsistent with the original one.",
    "SETTLE_CONTRACT_NOT_MATCH": "No settlement contract for this settlement currency.",
    "TOTAL_DECLARATION_AMOUNT_EXCEED": "The total declared amount exceeds the payment amount.",
    "UNKNOWN_CLIENT": "The client is unknown.",
    "UNKNOWN_EXCEPTION": "An API call has failed, which is caused by unknown reasons.",
    "USER_AMOUNT_EXCEED_LIMIT": "The amount exceeds the user's payment limit.",
    "USER_BALANCE_NOT_ENOUGH": "The user balance is not enough for this payment.",
}


def message_for(code: str) -> str:
    return _MESSAGES.get(code, code.replace("_", " ").capitalize() + ".")


def result(
    code: str = "SUCCESS", status: ResultStatus = "S", message: str | None = None
) -> dict[str, str]:
    return {
        "resultCode": code,
        "resultStatus": status,
        "resultMessage": message if message is not None else message_for(code),
    }


class AntomFailure(Exception):
    """A call ends with this ``result`` (and optional extra answer fields)."""

    def __init__(
        self,
        code: str,
        status: ResultStatus = "F",
        message: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.status: ResultStatus = status
        self.message = message if message is not None else message_for(code)
        self.extra = dict(extra or {})
        super().__init__(f"{status} {code}: {self.message}")

    def body(self) -> dict[str, Any]:
        return {"result": result(self.code, self.status, self.message), **self.extra}


def illegal(message: str) -> AntomFailure:
    return AntomFailure("PARAM_ILLEGAL", message=message)


def mask_login_id(login_id: str) -> str:
    """``85261234567`` → ``852****4567``; short ids keep their first and last character."""
    if len(login_id) >= 8:
        return f"{login_id[:3]}****{login_id[-4:]}"
    if len(login_id) >= 3:
        return f"{login_id[0]}****{login_id[-1]}"
    return "****"


def dump_json(data: Mapping[str, Any]) -> str:
    """Compact JSON, as the raw body that gets signed."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def parse_body(raw: bytes) -> Body:
    try:
        data = jsontext.loads(raw.decode("utf-8"))
    except ValueError:
        raise illegal("the request body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise illegal("the request body must be a JSON object")
    return Body(data, "")


class Body:
    """Typed access to a request object; every problem is an ``F PARAM_ILLEGAL``."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def _name(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, *, max_len: int) -> str:
        value = self.opt_text(name, max_len=max_len)
        if value is None:
            raise illegal(f"{self._name(name)} is required")
        return value

    def opt_text(self, name: str, *, max_len: int) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise illegal(f"{self._name(name)} must be a string")
        if not value.strip():
            raise illegal(f"{self._name(name)} must not be empty")
        if len(value) > max_len:
            raise illegal(f"{self._name(name)} is longer than {max_len} characters")
        return value

    def flag(self, name: str) -> bool:
        """A boolean sent as a string (``"true"``/``"false"``), as Antom's docs ask."""
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        if value == "true":
            return True
        if value == "false":
            return False
        raise illegal(f'{self._name(name)} must be "true" or "false"')

    def obj(self, name: str) -> Body:
        found = self.opt_obj(name)
        if found is None:
            raise illegal(f"{self._name(name)} is required")
        return found

    def opt_obj(self, name: str) -> Body | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise illegal(f"{self._name(name)} must be an object")
        return Body(value, self._name(name))

    def text_list(self, name: str, *, max_items: int, max_len: int) -> list[str]:
        value = self.data.get(name)
        if value is None:
            raise illegal(f"{self._name(name)} is required")
        if not isinstance(value, list) or not value:
            raise illegal(f"{self._name(name)} must be a non-empty array")
        if len(value) > max_items:
            raise AntomFailure(
                "ARRAY_SIZE_EXCEEDED",
                message=f"{self._name(name)} has more than {max_items} elements",
            )
        items: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item or len(item) > max_len:
                raise illegal(f"{self._name(name)} must hold strings of 1-{max_len} characters")
            items.append(item)
        return items

    def amount(self, name: str) -> Amount:
        """An Antom Amount object: ``currency`` and ``value`` as a string of minor units."""
        money = self.obj(name)
        value = money.data.get("value")
        if not isinstance(value, str):
            raise illegal(f"{self._name(name)}.value must be a string of digits")
        try:
            return Amount.from_api(money.data)
        except AmountError as exc:
            raise illegal(f"{self._name(name)}: {exc}") from None
