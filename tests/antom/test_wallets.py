from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saleor_alipay_app.antom.money import Amount, minor_digits
from saleor_alipay_app.antom.wallets import (
    CAPABILITIES,
    Wallet,
    WalletLimitError,
    check_payment,
    check_refund,
)

PAID = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def test_every_wallet_has_a_consistent_capability() -> None:
    assert set(CAPABILITIES) == set(Wallet)
    for wallet, cap in CAPABILITIES.items():
        assert cap.wallet is wallet
        assert len(cap.country) == 2
        assert len(cap.currency) == 3
        # limits are representable exactly in the wallet's currency
        assert Amount.from_decimal(cap.min_amount, cap.currency) == cap.minimum
        if cap.max_amount is not None:
            assert cap.min_amount < cap.max_amount
        assert cap.refund_window_days == 365
        assert minor_digits(cap.currency) in (0, 2)


def test_api_md_section_12_table() -> None:
    hk = CAPABILITIES[Wallet.ALIPAY_HK]
    assert (hk.currency, hk.min_amount, hk.max_amount) == ("HKD", Decimal("0.01"), Decimal(50000))
    dana = CAPABILITIES[Wallet.DANA]
    assert (dana.currency, dana.min_amount, dana.max_amount) == (
        "IDR",
        Decimal(300),
        Decimal(10000000),
    )
    assert CAPABILITIES[Wallet.ALIPAY_CN].max_amount is None
    assert CAPABILITIES[Wallet.KAKAOPAY].token_refreshable is False
    assert all(c.token_refreshable for w, c in CAPABILITIES.items() if w is not Wallet.KAKAOPAY)
    assert CAPABILITIES[Wallet.TNG].min_amount == Decimal("0.05")
    assert dict(CAPABILITIES[Wallet.TNG].period_limits) == {
        "month": Decimal(25000),
        "year": Decimal(300000),
    }


@pytest.mark.parametrize(
    ("wallet", "amount"),
    [
        (Wallet.ALIPAY_HK, Amount("HKD", 1)),
        (Wallet.ALIPAY_HK, Amount("HKD", 5000000)),
        (Wallet.DANA, Amount("IDR", 30000)),
        (Wallet.DANA, Amount("IDR", 1000000000)),
        (Wallet.KAKAOPAY, Amount("KRW", 50)),
        (Wallet.ALIPAY_CN, Amount("CNY", 10**12)),
        (Wallet.TRUEMONEY, Amount("THB", 3000000)),
    ],
)
def test_payments_within_limits_pass(wallet: Wallet, amount: Amount) -> None:
    check_payment(wallet, amount)


@pytest.mark.parametrize(
    ("wallet", "amount", "code"),
    [
        (Wallet.ALIPAY_HK, Amount("HKD", 0), "BELOW_MINIMUM"),
        (Wallet.ALIPAY_HK, Amount("HKD", 5000001), "ABOVE_MAXIMUM"),
        (Wallet.DANA, Amount("IDR", 29900), "BELOW_MINIMUM"),
        (Wallet.DANA, Amount("IDR", 1000000100), "ABOVE_MAXIMUM"),
        (Wallet.KAKAOPAY, Amount("KRW", 49), "BELOW_MINIMUM"),
        (Wallet.KAKAOPAY, Amount("KRW", 2000001), "ABOVE_MAXIMUM"),
        (Wallet.TNG, Amount("MYR", 4), "BELOW_MINIMUM"),
        (Wallet.ALIPAY_HK, Amount("USD", 100), "CURRENCY_NOT_SUPPORTED"),
        (Wallet.DANA, Amount("HKD", 100000), "CURRENCY_NOT_SUPPORTED"),
    ],
)
def test_payments_outside_limits_fail_with_both_messages(
    wallet: Wallet, amount: Amount, code: str
) -> None:
    with pytest.raises(WalletLimitError) as info:
        check_payment(wallet, amount)
    error = info.value
    assert error.code == code
    assert CAPABILITIES[wallet].display_name in error.shopper_message
    assert str(wallet) in error.merchant_message
    assert str(error) == error.merchant_message
    assert isinstance(error, ValueError)


def test_shopper_message_names_the_limit() -> None:
    with pytest.raises(WalletLimitError) as info:
        check_payment(Wallet.DANA, Amount("IDR", 20000))
    assert "IDR 300.00" in info.value.shopper_message
    with pytest.raises(WalletLimitError) as info:
        check_payment(Wallet.ALIPAY_HK, Amount("HKD", 9000000))
    assert "HKD 50000.00" in info.value.shopper_message


def test_refund_checks() -> None:
    check_refund(Wallet.ALIPAY_HK, Amount("HKD", 1), PAID, PAID + timedelta(days=1))
    check_refund(Wallet.DANA, Amount("IDR", 30000), PAID, PAID + timedelta(days=365))
    with pytest.raises(WalletLimitError) as info:
        check_refund(Wallet.DANA, Amount("IDR", 29900), PAID, PAID)
    assert info.value.code == "BELOW_MINIMUM"
    with pytest.raises(WalletLimitError) as info:
        check_refund(
            Wallet.ALIPAY_HK, Amount("HKD", 100), PAID, PAID + timedelta(days=365, seconds=1)
        )
    assert info.value.code == "REFUND_WINDOW_EXCEEDED"
    with pytest.raises(WalletLimitError) as info:
        check_refund(Wallet.ALIPAY_HK, Amount("CNY", 100), PAID, PAID)
    assert info.value.code == "CURRENCY_NOT_SUPPORTED"


def test_refund_needs_aware_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_refund(Wallet.ALIPAY_HK, Amount("HKD", 100), PAID.replace(tzinfo=None), PAID)
