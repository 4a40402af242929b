"""Antom result codes to outcomes (`antom.results`). That every code Antom's API description
lists has a rule is checked against the shared folder by tests/saleor/test_conformance.py."""

from __future__ import annotations

import pytest

from saleor_alipay_app.antom.results import (
    GENERIC_FAILURE_CODES,
    MERCHANT_MESSAGES,
    RULES,
    SHOPPER_MESSAGES,
    Call,
    Outcome,
    classify,
    merchant_message,
    shopper_message,
)


def test_every_call_has_rules_and_success() -> None:
    for call in Call:
        assert RULES[(call, "SUCCESS")] is Outcome.SUCCESS
        assert (call, "UNKNOWN_EXCEPTION") in RULES
        assert (call, "REQUEST_TRAFFIC_EXCEED_LIMIT") in RULES
        for code in GENERIC_FAILURE_CODES:
            assert (call, code) in RULES


@pytest.mark.parametrize(
    ("call", "status", "code", "outcome"),
    [
        # the brief's decisions
        (Call.PAY, "F", "INVALID_ACCESS_TOKEN", Outcome.FAILURE),
        (Call.REFUND, "F", "MERCHANT_BALANCE_NOT_ENOUGH", Outcome.RETRY_NEW_REQUEST),
        (Call.PAY, "F", "ORDER_IS_CLOSED", Outcome.RETRY_NEW_REQUEST),
        (Call.PAY, "F", "ORDER_IS_CANCELED", Outcome.RETRY_NEW_REQUEST),
        (Call.REFUND, "U", "REFUND_IN_PROCESS", Outcome.UNKNOWN_INQUIRE),
        (Call.PAY, "U", "PAYMENT_IN_PROCESS", Outcome.UNKNOWN_INQUIRE),
        (Call.APPLY_TOKEN, "U", "AUTH_IN_PROCESS", Outcome.RETRY_SAME_REQUEST),
        (Call.PAY, "U", "REQUEST_TRAFFIC_EXCEED_LIMIT", Outcome.RETRY_SAME_REQUEST),
        (Call.CONSULT, "U", "REQUEST_TRAFFIC_EXCEED_LIMIT", Outcome.RETRY_SAME_REQUEST),
        (Call.PAY, "U", "UNKNOWN_EXCEPTION", Outcome.UNKNOWN_INQUIRE),
        (Call.REFUND, "U", "UNKNOWN_EXCEPTION", Outcome.UNKNOWN_INQUIRE),
        (Call.CANCEL, "U", "UNKNOWN_EXCEPTION", Outcome.UNKNOWN_INQUIRE),
        (Call.CONSULT, "U", "UNKNOWN_EXCEPTION", Outcome.RETRY_SAME_REQUEST),
        (Call.INQUIRY_PAYMENT, "U", "UNKNOWN_EXCEPTION", Outcome.RETRY_SAME_REQUEST),
        (Call.REVOKE, "U", "UNKNOWN_EXCEPTION", Outcome.RETRY_SAME_REQUEST),
        (Call.DECLARE, "U", "UNKNOWN_EXCEPTION", Outcome.RETRY_SAME_REQUEST),
        # plain ones
        (Call.PAY, "S", "SUCCESS", Outcome.SUCCESS),
        (Call.PAY, "F", "USER_BALANCE_NOT_ENOUGH", Outcome.FAILURE),
        (Call.PAY, "F", "PROCESS_FAIL", Outcome.FAILURE),
        (Call.CANCEL, "F", "CANCEL_WINDOW_EXCEED", Outcome.FAILURE),
        (Call.APPLY_TOKEN, "F", "INVALID_AUTHCODE", Outcome.FAILURE),
        (Call.REVOKE, "F", "INVALID_ACCESS_TOKEN", Outcome.SUCCESS),
        (Call.INQUIRY_REFUND, "F", "ORDER_NOT_EXIST", Outcome.RETRY_SAME_REQUEST),
        (Call.INQUIRY_PAYMENT, "F", "ORDER_NOT_EXIST", Outcome.FAILURE),
        # unknown codes fall back on the status
        (Call.PAY, "S", "SOMETHING_NEW", Outcome.SUCCESS),
        (Call.PAY, "F", "SOMETHING_NEW", Outcome.FAILURE),
        (Call.PAY, "U", "SOMETHING_NEW", Outcome.UNKNOWN_INQUIRE),
        (Call.REFUND, "U", "SOMETHING_NEW", Outcome.UNKNOWN_INQUIRE),
        (Call.CANCEL, "U", "SOMETHING_NEW", Outcome.UNKNOWN_INQUIRE),
        (Call.CONSULT, "U", "SOMETHING_NEW", Outcome.RETRY_SAME_REQUEST),
        (Call.INQUIRY_REFUND, "U", "SOMETHING_NEW", Outcome.RETRY_SAME_REQUEST),
        # the status wins over a code that contradicts it
        (Call.PAY, "U", "USER_BALANCE_NOT_ENOUGH", Outcome.UNKNOWN_INQUIRE),
        (Call.PAY, "F", "SUCCESS", Outcome.FAILURE),
        (Call.PAY, "F", "PAYMENT_IN_PROCESS", Outcome.FAILURE),
        (Call.PAY, "X", "SUCCESS", Outcome.UNKNOWN_INQUIRE),
        (Call.PAY, "", "", Outcome.UNKNOWN_INQUIRE),
        (Call.CONSULT, "?", "SUCCESS", Outcome.RETRY_SAME_REQUEST),
    ],
)
def test_classify(call: Call, status: str, code: str, outcome: Outcome) -> None:
    assert classify(call, status, code) is outcome


def test_u_is_never_final_and_s_is_always_success() -> None:
    codes = {code for _, code in RULES} | {"NEW_CODE"}
    for call in Call:
        for code in codes:
            assert classify(call, "U", code) in (
                Outcome.UNKNOWN_INQUIRE,
                Outcome.RETRY_SAME_REQUEST,
            ), (call, code)
            assert classify(call, "S", code) is Outcome.SUCCESS


def test_messages() -> None:
    for _, code in RULES:
        assert code in MERCHANT_MESSAGES, code
        assert merchant_message(code) == MERCHANT_MESSAGES[code]
    assert "NEW_CODE" in merchant_message("NEW_CODE")
    assert "balance" in shopper_message("USER_BALANCE_NOT_ENOUGH").lower()
    for code, text in SHOPPER_MESSAGES.items():
        assert "_" not in text, code  # plain language, no codes
    # codes that are not the shopper's business get a neutral message
    assert "try again" in shopper_message("INVALID_SIGNATURE").lower()
