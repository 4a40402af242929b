from __future__ import annotations

import re
from pathlib import Path

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

API_MD = Path("/work/shared/antom/API.md")
SHARED_API_MD_CANDIDATES = (
    API_MD,
    Path(__file__).resolve().parents[3] / "shared" / "antom" / "API.md",
)

SECTIONS = {
    "7.1": Call.CONSULT,
    "7.3": Call.APPLY_TOKEN,
    "7.4": Call.REVOKE,
    "7.5": Call.PAY,
    "7.6": Call.INQUIRY_PAYMENT,
    "7.8": Call.CANCEL,
    "7.9": Call.REFUND,
    "7.10": Call.INQUIRY_REFUND,
    "7.12": Call.DECLARE,
    "7.13": Call.INQUIRY_DECLARATION,
}
CODE = re.compile(r"`([A-Z][A-Z0-9_]+)`")
CODES_MARKER = re.compile(r"\b(?:Result codes|Codes|F code)\b")


def _api_md_text() -> str:
    for candidate in SHARED_API_MD_CANDIDATES:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    pytest.skip(f"API.md not found (looked in {', '.join(map(str, SHARED_API_MD_CANDIDATES))})")


def _codes_by_call(text: str) -> dict[Call, set[str]]:
    section_7 = text[text.index("## 7. API details") : text.index("## 8.")]
    parts = re.split(r"^### (7\.\d+) ", section_7, flags=re.MULTILINE)
    # the generic set named in §7.3: "plus the generic set (`ACCESS_DENIED`, ...)"
    generic_text = section_7[section_7.index("generic set (") :]
    generic = set(CODE.findall(generic_text[: generic_text.index(")")]))
    assert "ACCESS_DENIED" in generic
    assert "UNKNOWN_CLIENT" in generic
    found: dict[Call, set[str]] = {}
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        call = SECTIONS.get(number)
        if call is None:
            continue
        marker = CODES_MARKER.search(body)
        assert marker is not None, f"§{number} has no codes list"
        codes_text = body[marker.start() :]
        codes = set(CODE.findall(codes_text)) | {"SUCCESS"}
        if "generic" in codes_text:
            codes |= generic
        if "U as usual" in codes_text:
            codes |= {"REQUEST_TRAFFIC_EXCEED_LIMIT", "UNKNOWN_EXCEPTION"}
        found[call] = codes
    assert set(found) == set(SECTIONS.values())
    return found


def test_every_code_api_md_lists_is_in_rules() -> None:
    found = _codes_by_call(_api_md_text())
    missing = {
        call: sorted(code for code in codes if (call, code) not in RULES)
        for call, codes in found.items()
    }
    assert not any(missing.values()), missing
    # sanity: the parser saw the specific codes, not just the generic ones
    assert "USER_BALANCE_NOT_ENOUGH" in found[Call.PAY]
    assert "REFUND_IN_PROCESS" in found[Call.REFUND]
    assert "ARRAY_SIZE_EXCEEDED" in found[Call.INQUIRY_DECLARATION]
    assert "CONTEXT_INCONSISTENT" in found[Call.DECLARE]
    assert "AUTH_IN_PROCESS" in found[Call.APPLY_TOKEN]


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
