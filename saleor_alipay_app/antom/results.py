"""What an Antom answer means for the caller: API.md §7 result codes and §8 rules, as one table.

``classify(call, resultStatus, resultCode)`` gives one of five outcomes:

- ``SUCCESS``: the call did what was asked.
- ``FAILURE``: final failure of this call; do not resend it.
- ``UNKNOWN_INQUIRE``: the outcome is unknown; find out with an inquiry (inquiryPayment,
  inquiryRefund) or wait for the notification. Never a failure.
- ``RETRY_SAME_REQUEST``: resend the identical request (same idempotency key) after a back-off.
- ``RETRY_NEW_REQUEST``: this request id is spent or must not be reused; a new attempt needs a new
  request id (a new ``paymentRequestId`` / ``refundRequestId``).

``resultStatus`` is the only machine signal (§8); the code refines it but never turns a U into a
final answer nor an S into anything but success.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "GENERIC_FAILURE_CODES",
    "MERCHANT_MESSAGES",
    "RULES",
    "SHOPPER_MESSAGES",
    "Call",
    "Outcome",
    "classify",
    "merchant_message",
    "shopper_message",
    "unknown_outcome",
]


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    UNKNOWN_INQUIRE = "UNKNOWN_INQUIRE"
    RETRY_SAME_REQUEST = "RETRY_SAME_REQUEST"
    RETRY_NEW_REQUEST = "RETRY_NEW_REQUEST"


class Call(StrEnum):
    CONSULT = "CONSULT"
    APPLY_TOKEN = "APPLY_TOKEN"  # noqa: S105 - an enum value, not a secret
    REVOKE = "REVOKE"
    PAY = "PAY"
    INQUIRY_PAYMENT = "INQUIRY_PAYMENT"
    CANCEL = "CANCEL"
    REFUND = "REFUND"
    INQUIRY_REFUND = "INQUIRY_REFUND"
    DECLARE = "DECLARE"
    INQUIRY_DECLARATION = "INQUIRY_DECLARATION"


# Calls that move money: an unknown answer means "find out", never "resend blindly".
_MONEY_CALLS: Final = frozenset({Call.PAY, Call.REFUND, Call.CANCEL})

_S = Outcome.SUCCESS
_F = Outcome.FAILURE
_U = Outcome.UNKNOWN_INQUIRE
_SAME = Outcome.RETRY_SAME_REQUEST
_NEW = Outcome.RETRY_NEW_REQUEST

# The "generic set" of F codes every API may answer (API.md §7.3).
GENERIC_FAILURE_CODES: Final = (
    "ACCESS_DENIED",
    "CLIENT_FORBIDDEN_ACCESS_API",
    "INVALID_ACCESS_TOKEN",
    "INVALID_API",
    "INVALID_CLIENT_STATUS",
    "INVALID_SIGNATURE",
    "KEY_NOT_FOUND",
    "NO_INTERFACE_DEF",
    "PARAM_ILLEGAL",
    "PROCESS_FAIL",
    "SYSTEM_ERROR",
    "UNKNOWN_CLIENT",
)


def _codes(outcome: Outcome, codes: Iterable[str]) -> dict[str, Outcome]:
    return dict.fromkeys(codes, outcome)


def _call_rules(*parts: dict[str, Outcome]) -> dict[str, Outcome]:
    """Merge, later parts overriding earlier ones (specific decisions after the generic set)."""
    merged: dict[str, Outcome] = {"SUCCESS": _S}
    for part in parts:
        merged.update(part)
    return merged


_RETRY_SAME_U: Final = _codes(_SAME, ("REQUEST_TRAFFIC_EXCEED_LIMIT", "UNKNOWN_EXCEPTION"))
_GENERIC_F: Final = _codes(_F, GENERIC_FAILURE_CODES)

_PER_CALL: Final[dict[Call, dict[str, Outcome]]] = {
    # §7.1 consult: U → resend identically (same authState).
    Call.CONSULT: _call_rules(
        _GENERIC_F,
        _codes(
            _F,
            (
                "MERCHANT_NOT_REGISTERED",
                "NO_PAY_OPTIONS",
                "OAUTH_FAILED",
                "PAYMENT_NOT_QUALIFIED",
                "RISK_REJECT",
            ),
        ),
        _RETRY_SAME_U,
    ),
    # §7.3 applyToken: AUTH_IN_PROCESS → call again until final; F burns the authCode.
    Call.APPLY_TOKEN: _call_rules(
        _GENERIC_F,
        _codes(
            _F,
            (
                "INVALID_AUTHCODE",
                "INVALID_REFRESH_TOKEN",
                "USER_NOT_EXIST",
                "USER_STATUS_ABNORMAL",
                "OAUTH_FAILED",
                "NO_PAY_OPTIONS",
            ),
        ),
        _RETRY_SAME_U,
        _codes(_SAME, ("AUTH_IN_PROCESS",)),
    ),
    # §7.4 revoke: INVALID_ACCESS_TOKEN = the token is already dead, which is what revoke wants
    # (API.md: "treat as revoked").
    Call.REVOKE: _call_rules(
        _GENERIC_F,
        _codes(_F, ("OAUTH_FAILED",)),
        _RETRY_SAME_U,
        _codes(_S, ("INVALID_ACCESS_TOKEN",)),
    ),
    # §7.5 pay (Auto Debit) and the §8 pay procedure.
    Call.PAY: _call_rules(
        _GENERIC_F,
        # token/binding: the agreement is dead, the shopper must bind again.
        _codes(_F, ("INVALID_ACCESS_TOKEN",)),
        # shopper side: show a message, don't auto-retry.
        _codes(
            _F,
            (
                "USER_BALANCE_NOT_ENOUGH",
                "USER_AMOUNT_EXCEED_LIMIT",
                "PAYMENT_AMOUNT_EXCEED_LIMIT",
                "PAYMENT_COUNT_EXCEED_LIMIT",
                "USER_KYC_NOT_QUALIFIED",
                "USER_NOT_EXIST",
                "USER_STATUS_ABNORMAL",
                "USER_PAYMENT_VERIFICATION_FAILED",
                "VERIFY_TIMES_EXCEED_LIMIT",
                "VERIFY_UNMATCHED",
                "RISK_REJECT",
                "EXPIRED_CODE",
                "INVALID_PAYMENT_CODE",
            ),
        ),
        # id reuse: this paymentRequestId is spent; a new attempt needs a new id.
        _codes(_NEW, ("ORDER_IS_CLOSED", "ORDER_IS_CANCELED")),
        # same id with different data: our bug.
        _codes(_F, ("REPEAT_REQ_INCONSISTENT",)),
        # merchant set-up: alert ops, never retry.
        _codes(
            _F,
            (
                "INVALID_CONTRACT",
                "INVALID_MERCHANT_STATUS",
                "MERCHANT_KYB_NOT_QUALIFIED",
                "MERCHANT_NOT_REGISTERED",
                "PAYMENT_NOT_QUALIFIED",
                "SETTLE_CONTRACT_NOT_MATCH",
                "CURRENCY_NOT_SUPPORT",
                "NO_PAY_OPTIONS",
                "INVALID_PAYMENT_METHOD_META_DATA",
            ),
        ),
        _codes(_U, ("PAYMENT_IN_PROCESS", "UNKNOWN_EXCEPTION")),
        _codes(_SAME, ("REQUEST_TRAFFIC_EXCEED_LIMIT",)),
    ),
    # §7.6 inquiryPayment: the result is about the inquiry call only.
    Call.INQUIRY_PAYMENT: _call_rules(
        _GENERIC_F,
        _codes(_F, ("ORDER_NOT_EXIST",)),
        _RETRY_SAME_U,
        _codes(_U, ("PAYMENT_IN_PROCESS",)),
    ),
    # §7.8 cancel: U → retry identical cancel (UNKNOWN_EXCEPTION: state unknown, inquire first).
    Call.CANCEL: _call_rules(
        _GENERIC_F,
        _codes(
            _F,
            (
                "CANCEL_WINDOW_EXCEED",
                "ORDER_NOT_EXIST",
                "ORDER_STATUS_INVALID",
                "MERCHANT_BALANCE_NOT_ENOUGH",
                "PAYMENT_METHOD_NOT_SUPPORTED",
                "USER_NOT_EXIST",
                "USER_STATUS_ABNORMAL",
            ),
        ),
        _codes(_U, ("UNKNOWN_EXCEPTION",)),
        _codes(_SAME, ("REQUEST_TRAFFIC_EXCEED_LIMIT",)),
    ),
    # §7.9 refund.
    Call.REFUND: _call_rules(
        _GENERIC_F,
        _codes(
            _F,
            (
                "REFUND_AMOUNT_EXCEED",
                "REFUND_WINDOW_EXCEED",
                "PARTIAL_REFUND_NOT_SUPPORTED",
                "MULTIPLE_REFUNDS_NOT_SUPPORTED",
                "REFUND_NOT_SUPPORTED",
                "PAYMENT_METHOD_NOT_SUPPORTED",
                "ORDER_STATUS_INVALID",
                "ORDER_IS_CANCELED",
                "ORDER_IS_CLOSED",
                "ORDER_NOT_EXIST",
                "CURRENCY_NOT_SUPPORT",
                "INVALID_MERCHANT_STATUS",
                "REPEAT_REQ_INCONSISTENT",
            ),
        ),
        # Refunds are funded from the unsettled balance: try later with a new refundRequestId.
        _codes(_NEW, ("MERCHANT_BALANCE_NOT_ENOUGH",)),
        # REFUND_IN_PROCESS: do not call refund again; inquire or wait for notifyRefund.
        _codes(_U, ("REFUND_IN_PROCESS", "UNKNOWN_EXCEPTION")),
        _codes(_SAME, ("REQUEST_TRAFFIC_EXCEED_LIMIT",)),
    ),
    # §7.10 inquiryRefund: ORDER_NOT_EXIST → call again after 15 s; after 3 tries the refund
    # was never created (the caller counts the tries).
    Call.INQUIRY_REFUND: _call_rules(
        _GENERIC_F,
        _RETRY_SAME_U,
        _codes(_SAME, ("ORDER_NOT_EXIST",)),
    ),
    # §7.12 declare: same declarationRequestId = retransmission, so U → resend identically.
    Call.DECLARE: _call_rules(
        _GENERIC_F,
        _codes(
            _F,
            (
                "DUPLICATED_DECLARATIONS",
                "TOTAL_DECLARATION_AMOUNT_EXCEED",
                "ORDER_NOT_EXIST",
                "ORDER_STATUS_INVALID",
                "REPEAT_REQ_INCONSISTENT",
                "CONTEXT_INCONSISTENT",
                "INVALID_CONTRACT",
                "CLIENT_INVALID",
                "MEDIA_TYPE_NOT_ACCEPTABLE",
                "METHOD_NOT_SUPPORTED",
                "RISK_REJECT",
                "USER_STATUS_ABNORMAL",
            ),
        ),
        _RETRY_SAME_U,
    ),
    # §7.13 inquiryDeclarationRequests.
    Call.INQUIRY_DECLARATION: _call_rules(
        _GENERIC_F,
        _codes(_F, ("ARRAY_SIZE_EXCEEDED",)),
        _RETRY_SAME_U,
    ),
}

RULES: Final[Mapping[tuple[Call, str], Outcome]] = MappingProxyType(
    {(call, code): outcome for call, codes in _PER_CALL.items() for code, outcome in codes.items()}
)


def unknown_outcome(call: Call) -> Outcome:
    """The outcome of no usable answer (timeout, HTTP≠200, bad signature, unknown U code)."""
    return _U if call in _MONEY_CALLS else _SAME


def classify(call: Call, result_status: str, result_code: str) -> Outcome:
    """Map one ``result`` to an :class:`Outcome` (API.md §8).

    A known code decides within what its status allows; an unknown code falls back on the status:
    S → SUCCESS, F → FAILURE, U (or anything else) → :func:`unknown_outcome`.
    """
    call = Call(call)
    status = (result_status or "").strip().upper()
    code = (result_code or "").strip().upper()
    rule = RULES.get((call, code))
    if status == "S":
        return _S
    if status == "F":
        # An F is final for this call unless the table says how to go on.
        if rule in (_F, _NEW, _SAME):
            return rule
        if rule is _S and code != "SUCCESS":
            # An F that leaves things as the caller wanted (revoke of an already dead token).
            return _S
        return _F
    # U, or a status Antom does not define: never a success, never a final failure.
    if rule in (_U, _SAME):
        return rule
    return unknown_outcome(call)


# -- messages -----------------------------------------------------------------------------------

SHOPPER_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "USER_BALANCE_NOT_ENOUGH": (
            "Your wallet balance is not enough for this payment. Top up your wallet or choose "
            "another payment method."
        ),
        "USER_AMOUNT_EXCEED_LIMIT": (
            "This payment is over your wallet's spending limit. Try a smaller amount or another "
            "payment method."
        ),
        "PAYMENT_AMOUNT_EXCEED_LIMIT": (
            "This amount is over the limit your wallet allows for one payment."
        ),
        "PAYMENT_COUNT_EXCEED_LIMIT": (
            "Your wallet has reached its limit on the number of payments. Try again later or "
            "use another payment method."
        ),
        "USER_KYC_NOT_QUALIFIED": (
            "Your wallet account needs identity verification before it can make this payment. "
            "Complete it in your wallet app, then try again."
        ),
        "USER_NOT_EXIST": "Your wallet account could not be found. Please link your wallet again.",
        "USER_STATUS_ABNORMAL": (
            "Your wallet account cannot make payments at the moment. Please contact your "
            "wallet's support or use another payment method."
        ),
        "USER_PAYMENT_VERIFICATION_FAILED": (
            "Your wallet could not verify this payment. Please try again."
        ),
        "VERIFY_TIMES_EXCEED_LIMIT": (
            "Too many verification attempts. Please wait a while before trying again."
        ),
        "VERIFY_UNMATCHED": "The verification did not match. Please try again.",
        "RISK_REJECT": (
            "Your wallet declined this payment. Please use another payment method or contact "
            "your wallet's support."
        ),
        "EXPIRED_CODE": "The payment code has expired. Please try again.",
        "INVALID_PAYMENT_CODE": "The payment code is not valid. Please try again.",
        "INVALID_ACCESS_TOKEN": (
            "Your linked wallet is no longer connected to this shop. Please scan the QR code "
            "to link it again."
        ),
        "INVALID_AUTHCODE": "Linking your wallet did not complete. Please scan a new QR code.",
        "INVALID_REFRESH_TOKEN": (
            "Your wallet link has expired. Please scan the QR code to link your wallet again."
        ),
        "OAUTH_FAILED": "Linking your wallet did not complete. Please scan a new QR code.",
        "NO_PAY_OPTIONS": "This wallet cannot be used in this shop at the moment.",
        "CURRENCY_NOT_SUPPORT": "This wallet cannot pay in this currency.",
        "ORDER_IS_CLOSED": "This payment attempt has expired. Please try again.",
        "ORDER_IS_CANCELED": "This payment attempt was cancelled. Please try again.",
    }
)

_DEFAULT_SHOPPER_MESSAGE: Final = (
    "The payment could not be completed. Please try again or choose another payment method."
)


def shopper_message(code: str) -> str:
    """A plain-language message for the shopper; a neutral one for codes that are not theirs."""
    return SHOPPER_MESSAGES.get(code, _DEFAULT_SHOPPER_MESSAGE)


_DEFAULT_LINKING_MESSAGE: Final = (
    "Your wallet could not be linked right now. Please try again in a moment."
)


def linking_message(code: str) -> str:
    """`shopper_message` when a shopper saves a wallet (no payment is under way): a neutral
    message that speaks of linking, not of paying."""
    return SHOPPER_MESSAGES.get(code, _DEFAULT_LINKING_MESSAGE)


MERCHANT_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "SUCCESS": "Antom accepted the request.",
        # generic
        "ACCESS_DENIED": "Antom denied access: the account may not have this API enabled.",
        "CLIENT_FORBIDDEN_ACCESS_API": (
            "This Antom client ID may not call this API; check the contract with Antom."
        ),
        "INVALID_ACCESS_TOKEN": (
            "The wallet access token is expired, revoked or unknown; the shopper must bind the "
            "wallet again."
        ),
        "INVALID_API": "Antom does not know this API path; check the gateway URL and path.",
        "INVALID_CLIENT_STATUS": "The Antom client ID is not active; contact Antom support.",
        "INVALID_SIGNATURE": (
            "Antom could not verify our request signature: check the merchant private key, the "
            "client ID and that the public key uploaded to Antom matches."
        ),
        "KEY_NOT_FOUND": (
            "Antom has no public key for this client ID: upload the merchant public key in the "
            "Antom dashboard."
        ),
        "NO_INTERFACE_DEF": "Antom has no definition for this API; check the path and product.",
        "PARAM_ILLEGAL": "Antom rejected a request parameter; this is a bug in the request.",
        "PROCESS_FAIL": "Antom failed to process the request; do not retry, contact Antom support.",
        "SYSTEM_ERROR": "Antom system error; do not retry automatically, contact Antom support.",
        "UNKNOWN_CLIENT": "Antom does not know this client ID; check the configuration.",
        "REQUEST_TRAFFIC_EXCEED_LIMIT": "Antom rate limit reached; retried with back-off.",
        "UNKNOWN_EXCEPTION": "Antom answered with an unknown error; the outcome is not known yet.",
        # consult / applyToken / revoke
        "MERCHANT_NOT_REGISTERED": "The merchant is not registered with Antom for this product.",
        "NO_PAY_OPTIONS": "This wallet is not enabled for this Antom account.",
        "OAUTH_FAILED": "The wallet authorisation failed; the shopper must scan a new QR code.",
        "PAYMENT_NOT_QUALIFIED": (
            "The Antom account has no Auto Debit (AGREEMENT_PAYMENT) contract for this wallet."
        ),
        "RISK_REJECT": "Declined by risk control (Antom or the wallet).",
        "AUTH_IN_PROCESS": "The authorisation is still being processed; retried.",
        "INVALID_AUTHCODE": (
            "The authCode is invalid, used or expired (1 minute); restart from consult with a "
            "new authState."
        ),
        "INVALID_REFRESH_TOKEN": (
            "The refresh token is invalid or expired; the shopper must bind the wallet again."
        ),
        "USER_NOT_EXIST": "The wallet user does not exist.",
        "USER_STATUS_ABNORMAL": "The wallet user's account is restricted.",
        # pay
        "USER_BALANCE_NOT_ENOUGH": "The shopper's wallet balance is insufficient.",
        "USER_AMOUNT_EXCEED_LIMIT": "The amount exceeds the shopper's wallet limit.",
        "PAYMENT_AMOUNT_EXCEED_LIMIT": "The amount exceeds the per-payment limit.",
        "PAYMENT_COUNT_EXCEED_LIMIT": "The shopper reached the wallet's payment count limit.",
        "USER_KYC_NOT_QUALIFIED": "The shopper's wallet account has not passed KYC.",
        "USER_PAYMENT_VERIFICATION_FAILED": "The wallet could not verify the shopper.",
        "VERIFY_TIMES_EXCEED_LIMIT": "Too many verification attempts by the shopper.",
        "VERIFY_UNMATCHED": "The shopper's verification did not match.",
        "EXPIRED_CODE": "The payment code expired.",
        "INVALID_PAYMENT_CODE": "The payment code is invalid.",
        "ORDER_IS_CLOSED": (
            "This paymentRequestId is closed; a new attempt needs a new paymentRequestId."
        ),
        "ORDER_IS_CANCELED": ("This request was cancelled; a new attempt needs a new request id."),
        "REPEAT_REQ_INCONSISTENT": (
            "The same request id was reused with different data (amount, currency or token): a "
            "bug on our side."
        ),
        "INVALID_CONTRACT": "The Antom contract does not cover this request; contact Antom.",
        "INVALID_MERCHANT_STATUS": "The merchant account is not in a state that allows this.",
        "MERCHANT_KYB_NOT_QUALIFIED": "The merchant has not passed Antom's KYB checks.",
        "SETTLE_CONTRACT_NOT_MATCH": (
            "The settlement currency does not match the Antom settlement contract."
        ),
        "CURRENCY_NOT_SUPPORT": "The currency is not supported for this wallet or contract.",
        "INVALID_PAYMENT_METHOD_META_DATA": "The payment method data sent to Antom is invalid.",
        "PAYMENT_IN_PROCESS": "The payment is still processing; inquire or wait for notifyPayment.",
        # inquiry / cancel / refund
        "ORDER_NOT_EXIST": "Antom has no record of this payment or refund (yet).",
        "CANCEL_WINDOW_EXCEED": "The cancel window has passed; refund instead.",
        "ORDER_STATUS_INVALID": (
            "The payment is not in a state that allows this (not successful yet, or failed)."
        ),
        "MERCHANT_BALANCE_NOT_ENOUGH": (
            "The merchant's unsettled balance cannot fund this; try later with a new request id."
        ),
        "PAYMENT_METHOD_NOT_SUPPORTED": "The wallet does not support this operation.",
        "REFUND_AMOUNT_EXCEED": "The refunds would exceed the amount paid.",
        "REFUND_WINDOW_EXCEED": "The refund window for this payment has closed.",
        "PARTIAL_REFUND_NOT_SUPPORTED": "This wallet does not support partial refunds.",
        "MULTIPLE_REFUNDS_NOT_SUPPORTED": "This wallet does not support more than one refund.",
        "REFUND_NOT_SUPPORTED": "Refunds are not supported for this payment.",
        "REFUND_IN_PROCESS": (
            "The refund is being processed; do not call refund again, inquire or wait for "
            "notifyRefund."
        ),
        # customs
        "DUPLICATED_DECLARATIONS": "This declaration was already made.",
        "TOTAL_DECLARATION_AMOUNT_EXCEED": "The declared amounts would exceed the amount paid.",
        "CONTEXT_INCONSISTENT": (
            "A re-sent declaration changed fields that may not change; only customs code/name, "
            "amount, suborderId and buyer name/number may."
        ),
        "CLIENT_INVALID": "The client is not valid for customs declarations.",
        "MEDIA_TYPE_NOT_ACCEPTABLE": "Antom refused the request's media type.",
        "METHOD_NOT_SUPPORTED": "Antom refused the HTTP method.",
        "ARRAY_SIZE_EXCEEDED": "Too many declaration request ids in one inquiry (at most 10).",
    }
)


def merchant_message(code: str) -> str:
    """A message for the merchant/ops about an Antom result code."""
    known = MERCHANT_MESSAGES.get(code)
    if known is not None:
        return known
    return f"Antom answered with result code {code[:64]!r}, which this app does not know."
