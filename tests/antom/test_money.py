from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_alipay_app.antom.money import CURRENCIES, Amount, AmountError, minor_digits


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("HKD", 2),
        ("USD", 2),
        ("IDR", 2),
        ("CNY", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("VND", 0),
        ("CLP", 0),
    ],
)
def test_minor_digits(currency: str, digits: int) -> None:
    assert minor_digits(currency) == digits


@pytest.mark.parametrize("code", ["hkd", "HK", "HKDD", "XXX", "", "12A"])
def test_invalid_or_unknown_currency(code: str) -> None:
    with pytest.raises(AmountError):
        minor_digits(code)
    with pytest.raises(AmountError):
        Amount.from_decimal(Decimal(1), code)


@pytest.mark.parametrize(
    ("amount", "currency", "value"),
    [
        ("123.45", "HKD", 12345),
        ("0.01", "HKD", 1),
        ("123.4", "HKD", 12340),
        ("123.450000", "HKD", 12345),
        ("0", "HKD", 0),
        ("300", "IDR", 30000),
        ("30000", "IDR", 3000000),
        ("300.00", "IDR", 30000),
        ("18000", "KRW", 18000),
        ("1E+3", "JPY", 1000),
        ("5000.0", "JPY", 5000),
        ("99999999999999.99", "HKD", 9999999999999999),
    ],
)
def test_from_decimal_exact(amount: str, currency: str, value: int) -> None:
    converted = Amount.from_decimal(Decimal(amount), currency)
    assert converted == Amount(currency, value)
    assert converted.to_api() == {"currency": currency, "value": str(value)}


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        ("300.5", "IDR", "must end in 00"),
        ("300.01", "IDR", "must end in 00"),
        ("123.456", "HKD", "more decimals"),
        ("0.001", "HKD", "more decimals"),
        ("1.5", "JPY", "more decimals"),
        ("18000.1", "KRW", "more decimals"),
        ("-1", "HKD", "negative"),
        ("100000000000000", "HKD", "16 digits"),
        ("1E+16", "JPY", "16 digits"),
        ("NaN", "HKD", "finite"),
        ("Infinity", "HKD", "finite"),
    ],
)
def test_from_decimal_refuses_instead_of_rounding(amount: str, currency: str, reason: str) -> None:
    with pytest.raises(AmountError, match=reason):
        Amount.from_decimal(Decimal(amount), currency)


def test_float_is_refused() -> None:
    with pytest.raises(AmountError, match="float"):
        Amount.from_decimal(1.5, "HKD")  # type: ignore[arg-type]


def test_explicit_rounding_is_available_and_banker_style() -> None:
    assert Amount.from_decimal_rounded(Decimal("300.5"), "IDR") == Amount("IDR", 30000)
    assert Amount.from_decimal_rounded(Decimal("301.5"), "IDR") == Amount("IDR", 30200)
    assert Amount.from_decimal_rounded(Decimal("1.005"), "HKD") == Amount("HKD", 100)
    assert Amount.from_decimal_rounded(Decimal("1.015"), "HKD") == Amount("HKD", 102)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Amount("HKD", 12345), Decimal("123.45")),
        (Amount("HKD", 1), Decimal("0.01")),
        (Amount("HKD", 0), Decimal("0.00")),
        (Amount("IDR", 3000000), Decimal("30000.00")),
        (Amount("JPY", 500), Decimal("500")),
        (Amount("KRW", 18000), Decimal("18000")),
    ],
)
def test_to_decimal_is_quantized(amount: Amount, expected: Decimal) -> None:
    result = amount.to_decimal()
    assert result == expected
    assert result.as_tuple().exponent == expected.as_tuple().exponent
    assert Amount.from_decimal(result, amount.currency) == amount


@pytest.mark.parametrize("currency", sorted(CURRENCIES))
def test_round_trip_every_currency(currency: str) -> None:
    amount = Amount(currency, 123400)
    assert Amount.from_api(amount.to_api()) == amount
    assert Amount.from_decimal(amount.to_decimal(), currency) == amount


def test_from_api_validates() -> None:
    assert Amount.from_api({"currency": "HKD", "value": "12345"}) == Amount("HKD", 12345)
    assert Amount.from_api({"currency": "HKD", "value": 7}) == Amount("HKD", 7)
    bad: list[dict[str, object]] = [
        {"currency": "HKD", "value": "12.45"},
        {"currency": "HKD", "value": "-1"},
        {"currency": "HKD", "value": ""},
        {"currency": "HKD", "value": "12345678901234567"},
        {"currency": "HKD", "value": True},
        {"currency": "HKD", "value": 1.5},
        {"currency": "HKD"},
        {"value": "100"},
        {"currency": "hkd", "value": "100"},
        {"currency": "IDR", "value": "30050"},
    ]
    for obj in bad:
        with pytest.raises(AmountError):
            Amount.from_api(obj)
    with pytest.raises(AmountError):
        Amount.from_api("HKD 1")  # type: ignore[arg-type]


def test_constructor_validates() -> None:
    with pytest.raises(AmountError):
        Amount("HKD", -1)
    with pytest.raises(AmountError):
        Amount("HKD", Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(AmountError):
        Amount("HKD", True)
    with pytest.raises(AmountError):
        Amount("IDR", 150)
    with pytest.raises(AmountError):
        Amount("HKD", 10**16)


def test_arithmetic_and_comparison_within_one_currency() -> None:
    a, b = Amount("HKD", 1000), Amount("HKD", 250)
    assert a + b == Amount("HKD", 1250)
    assert a - b == Amount("HKD", 750)
    assert b < a
    assert b <= a
    assert a > b
    assert a >= b
    assert a >= Amount("HKD", 1000)
    assert max(a, b) == a
    assert Amount.zero("IDR") + Amount("IDR", 30000) == Amount("IDR", 30000)
    with pytest.raises(AmountError, match="negative"):
        _ = b - a
    assert str(a) == "HKD 10.00"
    assert a != Amount("USD", 1000)
    assert len({a, Amount("HKD", 1000)}) == 1


@pytest.mark.parametrize("op", ["add", "sub", "lt", "le", "gt", "ge"])
def test_mismatched_currency_refused(op: str) -> None:
    hkd, usd = Amount("HKD", 100), Amount("USD", 100)
    with pytest.raises(AmountError, match="HKD and USD"):
        getattr(hkd, f"__{op}__")(usd)
