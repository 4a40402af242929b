"""Scan to Bind wallets and their limits (API.md §11, §12).

Limits are checked before Antom is called so that the shopper gets a clear message instead of
an Antom error code. Antom remains the authority: a contract may set tighter limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from .money import Amount

__all__ = [
    "CAPABILITIES",
    "Wallet",
    "WalletCapability",
    "WalletLimitError",
    "check_payment",
    "check_refund",
]


class Wallet(StrEnum):
    """``customerBelongsTo`` / ``paymentMethodType`` values of the Scan to Bind wallets."""

    ALIPAY_HK = "ALIPAY_HK"
    DANA = "DANA"
    ALIPAY_CN = "ALIPAY_CN"
    GCASH = "GCASH"
    KAKAOPAY = "KAKAOPAY"
    TNG = "TNG"
    TRUEMONEY = "TRUEMONEY"


@dataclass(frozen=True)
class WalletCapability:
    """What one wallet allows. Amounts are in major units of ``currency``.

    ``max_amount`` is the most one transaction may be: the per-transaction limit, or, where
    API.md only documents a per-day limit (GCash), that limit (one payment cannot exceed it).
    ``period_limits`` lists the documented cumulative limits, e.g. ``(("year", 200000),)``;
    they depend on the shopper's other spending, so only Antom can enforce them.
    """

    wallet: Wallet
    display_name: str
    country: str
    currency: str
    min_amount: Decimal
    max_amount: Decimal | None
    refund_window_days: int
    partial_refunds: bool
    multiple_refunds: bool
    token_refreshable: bool
    period_limits: tuple[tuple[str, Decimal], ...] = ()

    @property
    def minimum(self) -> Amount:
        return Amount.from_decimal(self.min_amount, self.currency)

    @property
    def maximum(self) -> Amount | None:
        if self.max_amount is None:
            return None
        return Amount.from_decimal(self.max_amount, self.currency)


# §12: refunds, partial refunds: yes for all; refund window 365 days (contract; best practice
# says 12 months). Multiple partial refunds: assumed yes (Antom answers
# MULTIPLE_REFUNDS_NOT_SUPPORTED otherwise). §11: only KakaoPay tokens cannot be refreshed.
_REFUND_WINDOW_DAYS: Final = 365


def _capability(
    wallet: Wallet,
    display_name: str,
    country: str,
    currency: str,
    min_amount: str,
    max_amount: str | None,
    *,
    token_refreshable: bool = True,
    period_limits: tuple[tuple[str, str], ...] = (),
) -> WalletCapability:
    return WalletCapability(
        wallet=wallet,
        display_name=display_name,
        country=country,
        currency=currency,
        min_amount=Decimal(min_amount),
        max_amount=None if max_amount is None else Decimal(max_amount),
        refund_window_days=_REFUND_WINDOW_DAYS,
        partial_refunds=True,
        multiple_refunds=True,
        token_refreshable=token_refreshable,
        period_limits=tuple((period, Decimal(limit)) for period, limit in period_limits),
    )


CAPABILITIES: Final[Mapping[Wallet, WalletCapability]] = MappingProxyType(
    {
        Wallet.ALIPAY_HK: _capability(
            Wallet.ALIPAY_HK,
            "AlipayHK",
            "HK",
            "HKD",
            "0.01",
            "50000",
            period_limits=(("year", "200000"),),
        ),
        Wallet.DANA: _capability(
            Wallet.DANA,
            "DANA",
            "ID",
            "IDR",
            "300",
            "10000000",
            period_limits=(("day", "20000000"),),
        ),
        Wallet.ALIPAY_CN: _capability(Wallet.ALIPAY_CN, "Alipay", "CN", "CNY", "0.1", None),
        Wallet.GCASH: _capability(
            Wallet.GCASH,
            "GCash",
            "PH",
            "PHP",
            "1",
            "100000",
            period_limits=(("day", "100000"),),
        ),
        Wallet.KAKAOPAY: _capability(
            Wallet.KAKAOPAY,
            "Kakao Pay",
            "KR",
            "KRW",
            "50",
            "2000000",
            token_refreshable=False,
        ),
        Wallet.TNG: _capability(
            Wallet.TNG,
            "Touch 'n Go eWallet",
            "MY",
            "MYR",
            "0.05",
            "20000",
            period_limits=(("month", "25000"), ("year", "300000")),
        ),
        Wallet.TRUEMONEY: _capability(
            Wallet.TRUEMONEY,
            "TrueMoney",
            "TH",
            "THB",
            "1",
            "30000",
            period_limits=(("day", "50000"),),
        ),
    }
)


class WalletLimitError(ValueError):
    """An amount a wallet will not accept. ``str(error)`` is the merchant message."""

    def __init__(self, *, code: str, shopper_message: str, merchant_message: str) -> None:
        super().__init__(merchant_message)
        self.code = code
        self.shopper_message = shopper_message
        self.merchant_message = merchant_message


def _check_currency(cap: WalletCapability, amount: Amount, what: str) -> None:
    if amount.currency != cap.currency:
        raise WalletLimitError(
            code="CURRENCY_NOT_SUPPORTED",
            shopper_message=(f"{cap.display_name} can only be used for {what}s in {cap.currency}."),
            merchant_message=(
                f"{cap.display_name} ({cap.wallet}) only accepts {cap.currency}; "
                f"the {what} is in {amount.currency}"
            ),
        )


def check_payment(wallet: Wallet, amount: Amount) -> None:
    """Raise :class:`WalletLimitError` when ``wallet`` cannot take ``amount`` in one payment."""
    cap = CAPABILITIES[Wallet(wallet)]
    _check_currency(cap, amount, "payment")
    if amount < cap.minimum:
        raise WalletLimitError(
            code="BELOW_MINIMUM",
            shopper_message=(
                f"The smallest payment {cap.display_name} accepts is {cap.minimum}. "
                "Please choose another payment method."
            ),
            merchant_message=(
                f"{cap.wallet}: payment of {amount} is below the per-transaction minimum "
                f"{cap.minimum}"
            ),
        )
    maximum = cap.maximum
    if maximum is not None and amount > maximum:
        raise WalletLimitError(
            code="ABOVE_MAXIMUM",
            shopper_message=(
                f"{cap.display_name} accepts at most {maximum} per payment. "
                "Please choose another payment method or split the order."
            ),
            merchant_message=(
                f"{cap.wallet}: payment of {amount} exceeds the per-transaction maximum {maximum}"
            ),
        )


def check_refund(wallet: Wallet, refund: Amount, paid_at: datetime, now: datetime) -> None:
    """Raise :class:`WalletLimitError` when ``wallet`` cannot refund ``refund`` now.

    The minimum refund equals the minimum payment (§12); the refund window starts at
    ``paymentTime``. Both datetimes must be timezone-aware.
    """
    if paid_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("paid_at and now must be timezone-aware datetimes")
    cap = CAPABILITIES[Wallet(wallet)]
    _check_currency(cap, refund, "refund")
    if refund < cap.minimum:
        raise WalletLimitError(
            code="BELOW_MINIMUM",
            shopper_message=f"Refunds through {cap.display_name} must be at least {cap.minimum}.",
            merchant_message=(
                f"{cap.wallet}: refund of {refund} is below the minimum refund {cap.minimum}"
            ),
        )
    deadline = paid_at + timedelta(days=cap.refund_window_days)
    if now > deadline:
        raise WalletLimitError(
            code="REFUND_WINDOW_EXCEEDED",
            shopper_message=(f"This payment is too old to be refunded through {cap.display_name}."),
            merchant_message=(
                f"{cap.wallet}: the refund window of {cap.refund_window_days} days closed at "
                f"{deadline.isoformat()} (paid at {paid_at.isoformat()})"
            ),
        )
