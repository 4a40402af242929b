"""How one report row compares with ours, and the small conversions around it."""

from __future__ import annotations

import pytest

from saleor_alipay_app.antom.models import DeclarationRecord
from saleor_alipay_app.customs.antom_calls import status_of
from saleor_alipay_app.customs.models import DeclarationStatus
from saleor_alipay_app.customs.rules import declaration_request_id
from saleor_alipay_app.reconciliation.matching import COUNT_KEYS, classify, count_key
from saleor_alipay_app.reconciliation.models import MatchKind
from saleor_alipay_app.reconciliation.parser import parse_minor
from saleor_alipay_app.reconciliation.repository import Ours
from saleor_alipay_app.reconciliation.schemas import money, parse_kinds

PAID = Ours("SUCCEEDED", 12345, "HKD")
REFUNDED = Ours("SUCCEEDED", 2000, "HKD")


@pytest.mark.parametrize(
    ("transaction_type", "amount", "currency", "payment", "refund", "expected"),
    [
        ("PAYMENT", 12345, "HKD", PAID, None, (MatchKind.MATCHED, None)),
        ("PAYMENT", 12345, "HKD", None, None,
         (MatchKind.MISSING_HERE, "no payment with this request id here")),
        ("PAYMENT", 12346, "HKD", PAID, None,
         (MatchKind.AMOUNT_MISMATCH, "Antom 123.46, here 123.45")),
        ("PAYMENT", 12345, "USD", PAID, None,
         (MatchKind.CURRENCY_MISMATCH, "Antom USD, here HKD")),
        ("PAYMENT", 12345, "HKD", Ours("PROCESSING", 12345, "HKD"), None,
         (MatchKind.STATUS_MISMATCH,
          "Antom lists a successful payment; here it is PROCESSING")),
        ("PAYMENT", 12345, "HKD", Ours("CANCELLED", 12345, "HKD"), None,
         (MatchKind.MATCHED, "cancelled here later (Antom reverses it)")),
        ("CANCEL", -12345, "HKD", Ours("CANCELLED", 12345, "HKD"), None, (MatchKind.MATCHED, None)),
        ("CANCEL", -12345, "HKD", PAID, None,
         (MatchKind.STATUS_MISMATCH, "Antom lists a successful cancel; here it is SUCCEEDED")),
        ("REFUND", -2000, "HKD", None, REFUNDED, (MatchKind.MATCHED, None)),
        ("REFUND", 2000, "HKD", None, REFUNDED,
         (MatchKind.AMOUNT_MISMATCH, "Antom 20.00, here -20.00")),
        ("REFUND", -2000, "HKD", None, Ours("FAILED", 2000, "HKD"),
         (MatchKind.STATUS_MISMATCH, "Antom lists a successful refund; here it is FAILED")),
        ("REFUND", -2000, "HKD", PAID, None,
         (MatchKind.MISSING_HERE, "no refund with this request id here")),
        ("SETTLEMENT_FEE", None, None, None, None,
         (MatchKind.OTHER, "SETTLEMENT_FEE: settlement only")),
        ("DISPUTE", -100, "HKD", PAID, None,
         (MatchKind.MISSING_HERE, "DISPUTE transactions are not made by this app")),
    ],
)  # fmt: skip
def test_classify(
    transaction_type: str,
    amount: int | None,
    currency: str | None,
    payment: Ours | None,
    refund: Ours | None,
    expected: tuple[MatchKind, str | None],
) -> None:
    kind, _ours, detail = classify(transaction_type, amount, currency, payment, refund)
    assert (kind, detail) == expected


def test_every_kind_is_counted_somewhere() -> None:
    assert {count_key(kind) for kind in MatchKind} == set(COUNT_KEYS)


def test_kinds_filter() -> None:
    assert parse_kinds(None) is None
    assert parse_kinds("missing_here, MATCHED") == [MatchKind.MISSING_HERE, MatchKind.MATCHED]
    assert set(parse_kinds("MISMATCHED") or []) == {
        MatchKind.AMOUNT_MISMATCH,
        MatchKind.CURRENCY_MISMATCH,
        MatchKind.STATUS_MISMATCH,
    }
    with pytest.raises(ValueError, match="LOST"):
        parse_kinds("LOST")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("123.45", "HKD", 12345),
        ("-20", "HKD", -2000),
        ("-0.10", "HKD", -10),
        ("123.4", "HKD", 12340),
        ("123.450", "HKD", 12345),
        ("18000", "KRW", 18000),
        ("18000.00", "KRW", 18000),
        ("30000.00", "IDR", 3000000),
        (" 1.00 ", "USD", 100),
    ],
)
def test_amounts_in_major_units(text: str, currency: str, minor: int) -> None:
    assert parse_minor(text, currency, "x") == minor


@pytest.mark.parametrize("text", ["", "-", "1.", ".5", "1e3", "1,000.00", "١٢", "+1", "--1"])
def test_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        parse_minor(text, "HKD", "x")


def test_money_keeps_the_sign_and_the_digits() -> None:
    assert money(-2010, "HKD") == "-20.10"
    assert money(18000, "KRW") == "18000"
    assert money(5, "HKD") == "0.05"
    assert money(None, "HKD") is None


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("IN_PROCESS", None, DeclarationStatus.IN_PROCESS),
        ("CUSTOMS_PROCESSING_COMPLETED", "2", DeclarationStatus.COMPLETED),
        ("CUSTOMS_PROCESSING_COMPLETED", "120", DeclarationStatus.COMPLETED),
        ("CUSTOMS_PROCESSING_COMPLETED", "-1", DeclarationStatus.REJECTED),
    ],
)
def test_customs_results(status: str, code: str | None, expected: DeclarationStatus) -> None:
    record = DeclarationRecord(
        declaration_request_status=status, customs_declaration_result_code=code
    )
    assert status_of(record) is expected


def test_declaration_request_ids_are_deterministic_and_short() -> None:
    long_payment = "saa-" + "f" * 40 + "-12"
    first = declaration_request_id(long_payment, 1)
    assert first == declaration_request_id(long_payment, 1)
    assert first != declaration_request_id(long_payment, 2)
    assert len(declaration_request_id(long_payment, 9999)) <= 32
